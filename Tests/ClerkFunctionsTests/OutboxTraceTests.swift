import ClerkFunctions
import JSON
import Messaging
import TestSupport
import XCTest

/// Every message the outbox publishes to RabbitMQ carries the publishing invocation's trace id, as the
/// Kafka destination's `trace-id` header does.
final class OutboxTraceTests: XCTestCase {
    func testPublishedMessagesCarryTheTraceId() throws {
        let f = try WebhookFixture(extra: ["RABBITMQ_URL": TestBroker.url])
        let consumer = AMQPPublisher(url: TestBroker.url)
        while try consumer.get("user-events") != nil {}
        _ = try f.invoke("onUserCreated", f.signed(f.userBody(type: "user.created", updatedAt: 1)))
        let message = try XCTUnwrap(try consumer.getWithHeaders("user-events"))
        XCTAssertEqual(try JSONValue.parse(message.body)["type"]?.stringValue, "user.created")
        // The harness gives each invocation an X-Ray-shaped id, as Lambda does.
        XCTAssertTrue(message.headers["trace-id"]?.hasPrefix("Root=1-") ?? false, "\(message.headers)")
    }
}
