import JSON
import LambdaRuntime
import Store
import XCTest

@testable import ClerkFunctions

/// The relay's decisions with the outbox in memory and recording brokers: the order rows go out in, what a row
/// counts as when brokers disagree, what is set aside, when it stops and what `publishOutbox` answers. The lock
/// that keeps one relay at a time, the SQL that records a batch and the brokers themselves are the integration
/// tier's (`PublishOutboxTests`, `OutboxRelaysHeldTogether`, `PublishOutboxKafkaTests`).
final class OutboxRelayTests: XCTestCase {
    let outbox = InMemoryOutbox()
    let rabbit = RecordingDestination("rabbitmq")
    let kafka = RecordingDestination("kafka")

    func publish(_ destinations: [RecordingDestination]? = nil, batchSize: Int = 2, context: Context = unitContext()) throws -> JSONValue {
        let relay = OutboxRelay(destinations: destinations ?? [rabbit], batchSize: batchSize)
        return try JSONValue.parseStrict(PublishOutboxFunction(relay: relay, outbox: outbox).handle(Array("{}".utf8), context: context))
    }

    func testEveryPendingRowGoesOutInOrderBatchAfterBatch() throws {
        outbox.add(5)
        let answer = try publish(context: unitContext(traceId: "Root=1-unit"))
        XCTAssertEqual(rabbit.batches, [[1, 2], [3, 4], [5]])
        XCTAssertEqual(outbox.ids(.published), [1, 2, 3, 4, 5])
        XCTAssertEqual(answer, .object(["published": .number(5), "pending": .number(0), "destinations": .string("rabbitmq")]))
        XCTAssertEqual(Set(rabbit.traceIds), ["Root=1-unit"], "the invocation's trace goes with every batch")
        XCTAssertTrue(rabbit.budgets.allSatisfy { (100...60_000).contains($0) }, "\(rabbit.budgets)")
    }

    func testAnEmptyOutboxSendsNothing() throws {
        let answer = try publish()
        XCTAssertTrue(rabbit.batches.isEmpty)
        XCTAssertEqual(answer["published"], .number(0))
    }

    func testARowRefusedForGoodIsSetAsideAndTheRowsBehindItGoOn() throws {
        outbox.add(5)
        kafka.answer = { batch in
            guard let at = batch.firstIndex(where: { $0.id == 3 }) else { return OutboxSendResult(confirmed: batch.count, error: nil) }
            return OutboxSendResult(confirmed: at, error: "message too large", refusedForGood: true)
        }
        let answer = try publish([kafka], batchSize: 5)
        XCTAssertEqual(kafka.batches, [[1, 2, 3, 4, 5], [4, 5]])
        XCTAssertEqual(outbox.ids(.setAside), [3])
        XCTAssertEqual(outbox.ids(.published), [1, 2, 4, 5])
        XCTAssertEqual(outbox.rows[2].lastError, "kafka: message too large")
        XCTAssertEqual(
            answer,
            .object([
                "published": .number(4), "pending": .number(0), "setAside": .number(1),
                "destinations": .string("kafka")
            ]))
    }

    func testRowsOvertakenByALaterRowOfTheirKeyAreSetAsideNotPublished() throws {
        outbox.add(3)
        kafka.answer = { OutboxSendResult(confirmed: $0.count, error: nil, overtaken: [0]) }
        let answer = try publish([kafka], batchSize: 3)
        XCTAssertEqual(outbox.ids(.setAside), [1])
        XCTAssertEqual(outbox.ids(.published), [2, 3])
        XCTAssertEqual(answer["published"], .number(2))
        XCTAssertEqual(answer["setAside"], .number(1))
    }

    func testAnOutageStopsTheRelayKeepsTheRestPendingInOrderAndIsReported() throws {
        outbox.add(5)
        kafka.answer = { batch in
            OutboxSendResult(
                confirmed: batch.first?.id == 1 ? 1 : 0, error: "TOPIC_AUTHORIZATION_FAILED",
                outage: "authorization")
        }
        XCTAssertThrowsError(try publish([kafka], batchSize: 3)) { error in
            guard let failure = error as? OutboxPublishError else { return XCTFail("\(error)") }
            XCTAssertEqual(failure.cause, "authorization")
            XCTAssertEqual(failure.published, 1)
            XCTAssertEqual(failure.reason, "kafka: TOPIC_AUTHORIZATION_FAILED")
            XCTAssertFalse(failure.errorMessage.isEmpty)
        }
        XCTAssertEqual(kafka.batches, [[1, 2, 3]], "no second batch after an outage")
        XCTAssertEqual(outbox.ids(.published), [1])
        XCTAssertEqual(outbox.ids(.pending), [2, 3, 4, 5])
        XCTAssertEqual(outbox.rows[1].lastError, "kafka: TOPIC_AUTHORIZATION_FAILED")
        XCTAssertEqual(outbox.rows[3].attempts, 0, "rows not sent are not counted as tried")
        // When the broker returns, the rows go out in their order.
        kafka.answer = { OutboxSendResult(confirmed: $0.count, error: nil) }
        _ = try publish([kafka], batchSize: 3)
        XCTAssertEqual(outbox.ids(.published), [1, 2, 3, 4, 5])
        XCTAssertEqual(Array(kafka.sent.dropFirst(3)), [2, 3, 4, 5])
    }

    func testAnOutageWithoutAClassIsOther() throws {
        outbox.add(1)
        rabbit.answer = { _ in OutboxSendResult(confirmed: 0, error: "connection refused") }
        let outcome = try OutboxRelay(destinations: [rabbit], batchSize: 2).publishPending(outbox, maxBatches: 10, context: unitContext())
        XCTAssertEqual(outcome.error, "rabbitmq: connection refused")
        XCTAssertEqual(outcome.outage?.destination, "rabbitmq")
        XCTAssertEqual(outcome.outage?.reason, "other")
    }

    func testARowCountsOnceEveryBrokerHasItAndALaterBrokerGetsOnlyWhatEarlierOnesConfirmed() throws {
        outbox.add(4)
        rabbit.answer = {
            OutboxSendResult(
                confirmed: min($0.count, 2), error: $0.count > 2 ? "not every message was confirmed" : nil,
                outage: $0.count > 2 ? "unavailable" : nil)
        }
        XCTAssertThrowsError(try publish([rabbit, kafka], batchSize: 4)) { error in
            XCTAssertEqual((error as? OutboxPublishError)?.cause, "unavailable")
        }
        XCTAssertEqual(rabbit.batches, [[1, 2, 3, 4]])
        XCTAssertEqual(kafka.batches, [[1, 2]])
        XCTAssertEqual(outbox.ids(.published), [1, 2])
        // The other way round: the later broker's shortfall holds back what the earlier one confirmed.
        rabbit.answer = { OutboxSendResult(confirmed: $0.count, error: nil) }
        kafka.answer = { _ in OutboxSendResult(confirmed: 0, error: "all brokers down", outage: "unavailable") }
        XCTAssertThrowsError(try publish([rabbit, kafka], batchSize: 4))
        XCTAssertEqual(outbox.ids(.pending), [3, 4])
    }

    func testABrokerSkippedWhenAnEarlierOneConfirmedNothing() throws {
        outbox.add(2)
        rabbit.answer = { _ in OutboxSendResult(confirmed: 0, error: "down", outage: "unavailable") }
        XCTAssertThrowsError(try publish([rabbit, kafka]))
        XCTAssertTrue(kafka.batches.isEmpty)
        XCTAssertEqual(outbox.ids(.pending), [1, 2])
    }

    func testAnotherRelayHoldingTheOutboxIsBusyNotAnError() throws {
        outbox.add(3)
        outbox.heldByAnother = true
        let answer = try publish()
        XCTAssertTrue(rabbit.batches.isEmpty)
        XCTAssertEqual(answer, .object(["published": .number(0), "pending": .number(3), "relay": .string("busy")]))
    }

    func testWithoutABrokerTheOutboxIsReportedAndLeftForAnotherRelay() throws {
        outbox.add(2)
        let answer = try JSONValue.parseStrict(PublishOutboxFunction(relay: nil, outbox: outbox).handle(Array("{}".utf8), context: unitContext()))
        XCTAssertEqual(answer, .object(["published": .number(0), "pending": .number(2), "relay": .string("disabled")]))
        XCTAssertEqual(outbox.ids(.pending), [1, 2])
    }

    func testItStopsAtMaxBatchesAndWhenTimeRunsShort() throws {
        outbox.add(5)
        let relay = OutboxRelay(destinations: [rabbit], batchSize: 2)
        XCTAssertEqual(try relay.publishPending(outbox, maxBatches: 1, context: unitContext()).published, 2)
        XCTAssertEqual(
            try relay.publishPending(outbox, maxBatches: 10, context: unitContext(remainingMs: 1_000)).published, 0,
            "under a second and a half left: no batch is started")
        XCTAssertEqual(rabbit.batches, [[1, 2]])
    }

    func testTheDestinationsNameEachBrokerInOrder() {
        XCTAssertEqual(OutboxRelay(destinations: [rabbit, kafka], batchSize: 1).destinationNames, "rabbitmq+kafka")
    }
}
