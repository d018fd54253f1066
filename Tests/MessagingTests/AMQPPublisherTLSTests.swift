import Foundation
import Messaging
import XCTest

/// `AMQPPublisher` against an `amqps://` broker: the private node's TLS listener (scripts/with-broker.sh).
/// The relay over TLS, with the rows it keeps pending, is tested in ClerkFunctionsTests (BrokerTLSTests).
final class AMQPPublisherTLSTests: XCTestCase {
    func testAMissingCAFileIsAClearError() throws {
        // Never skipped: scripts/with-broker.sh always opens the TLS listener.
        let tlsURL = try XCTUnwrap(
            ProcessInfo.processInfo.environment["RABBITMQ_TLS_URL"],
            "RABBITMQ_TLS_URL is not set: run the tests through scripts/with-broker.sh")
        XCTAssertThrowsError(
            try AMQPPublisher(url: tlsURL, caFile: "/nonexistent/ca.pem").publish([AMQPMessage(queue: "user-events", body: [0x7B, 0x7D])])
        ) {
            XCTAssertTrue("\($0)".contains("cannot read CA certificates from /nonexistent/ca.pem"), "\($0)")
        }
    }
}
