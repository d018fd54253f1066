import Messaging
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A broker that accepts the connection and then says nothing (a half-dead node, a black-holing load
/// balancer) must not hold a relay past the budget it was given: connecting, logging in and declaring
/// wait at most what is left of it, not the publisher's own (long) timeout.
final class AMQPBudgetTests: XCTestCase {
    func testASilentBrokerCostsTheBudgetNotTheTimeout() throws {
        // The kernel completes the TCP handshake for a listening socket nobody accepts on: the AMQP
        // greeting then waits forever for the broker's answer.
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
        XCTAssertEqual(listen(fd, 4), 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        let port = UInt16(bigEndian: addr.sin_port)

        // A 60 s timeout and a 500 ms budget: before the fix the login waited the full timeout.
        let publisher = AMQPPublisher(url: "amqp://guest:guest@127.0.0.1:\(port)", timeoutMs: 60_000)
        let started = ContinuousClock.now
        XCTAssertThrowsError(try publisher.publish([AMQPMessage(queue: "q", body: [0x7B, 0x7D])], budgetMs: 500))
        let waited = ContinuousClock.now - started
        // Not a speed figure: it tells "stopped at the budget" (about 0.5 s) from "waited rabbitmq-c's own
        // login clock" (12 s, what this waited before) or the publisher's timeout (60 s).
        XCTAssertLessThan(waited, .seconds(6), "the publish outlived its budget")
    }
}
