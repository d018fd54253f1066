import Foundation
import Messaging
import XCTest

/// Each way `AMQPPublisher`'s connect can stop answers with its own error, and a failed connect leaves the
/// publisher able to connect again: the half-made connection is destroyed on one path, whichever step failed.
final class AMQPConnectTests: XCTestCase {
    func brokerURL() throws -> String {
        try XCTUnwrap(
            ProcessInfo.processInfo.environment["RABBITMQ_URL"],
            "RABBITMQ_URL is not set: run the tests through scripts/with-broker.sh")
    }

    func testAURLThatIsNotAMQPIsRefusedBeforeAnyConnection() {
        XCTAssertThrowsError(try AMQPPublisher(url: "http://127.0.0.1:5672/").publish([AMQPMessage(queue: "q", body: [0x7B, 0x7D])])) {
            XCTAssertEqual("\($0)", "RABBITMQ_URL is not an amqp:// or amqps:// URL")
        }
    }

    func testWrongCredentialsAreALoginRefusalEveryTime() throws {
        // The private node's URL with a password it does not know.
        let url = try brokerURL()
        let parts = try XCTUnwrap(URLComponents(string: url))
        var wrong = parts
        wrong.password = "not-\(parts.password ?? "the-password")"
        let publisher = AMQPPublisher(url: try XCTUnwrap(wrong.string), timeoutMs: 3000)
        for _ in 0..<2 {
            XCTAssertThrowsError(try publisher.publish([AMQPMessage(queue: "amqp-connect-tests", body: [0x7B, 0x7D])])) {
                XCTAssertEqual("\($0)", "cannot reach RabbitMQ: login refused")
            }
        }
    }

    func testNothingListeningIsAConnectionFailureEveryTime() throws {
        let publisher = AMQPPublisher(url: "amqp://guest:guest@127.0.0.1:\(try unusedPort())/", timeoutMs: 2000)
        for _ in 0..<2 {
            XCTAssertThrowsError(try publisher.publish([AMQPMessage(queue: "amqp-connect-tests", body: [0x7B, 0x7D])])) {
                guard case .connectionFailed? = $0 as? AMQPError else { return XCTFail("\($0)") }
            }
        }
    }

    /// A loopback port nobody listens on: bound, noted, closed.
    func unusedPort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(bound, 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return UInt16(bigEndian: addr.sin_port)
    }
}
