import Messaging
import XCTest

/// Publisher confirms as RabbitMQ sends them: single acks out of order, cumulative acks, stray tags.
final class ConfirmTrackerTests: XCTestCase {
    func testASingleAckForALaterMessageDoesNotConfirmAnEarlierOne() {
        // Tags 4...8; RabbitMQ acks 5 (multiple=false) while 4 is still unconfirmed.
        var t = ConfirmTracker(firstTag: 4, count: 5)
        t.ack(5, multiple: false)
        XCTAssertEqual(t.confirmed, 0, "4 is not stored yet: nothing may be marked published")
        XCTAssertEqual(t.unsettled, 4)
        t.ack(4, multiple: false)
        XCTAssertEqual(t.confirmed, 2)
        t.ack(8, multiple: true)
        XCTAssertEqual(t.confirmed, 5)
        XCTAssertEqual(t.unsettled, 0)
    }

    func testTagsOutsideTheBatchAreIgnoredNotTrappedOn() {
        var t = ConfirmTracker(firstTag: 10, count: 3)
        t.ack(0, multiple: false)
        t.ack(0, multiple: true)
        t.ack(9, multiple: true)
        t.ack(13, multiple: false)
        t.ack(UInt64.max, multiple: true)
        XCTAssertEqual(t.confirmed, 0)
        XCTAssertEqual(t.unsettled, 3)
        t.ack(11, multiple: true)
        XCTAssertEqual(t.confirmed, 2)
        t.ack(11, multiple: false)
        XCTAssertEqual(t.unsettled, 1, "a repeated ack counts once")
    }

    func testAnEmptyBatch() {
        let t = ConfirmTracker(firstTag: 1, count: 0)
        XCTAssertEqual(t.confirmed, 0)
        XCTAssertEqual(t.unsettled, 0)
    }
}
