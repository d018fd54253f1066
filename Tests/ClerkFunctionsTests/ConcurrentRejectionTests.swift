import ClerkFunctions
import ClerkKit
import JSON
import LambdaRuntime
import LocalHosting
import Store
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The rejection write paths (`DeliveryRejection.record` for a delivery PostgreSQL refuses as data,
/// `DeliveryRejection.keep` for an Amazon MQ message refused before it became a delivery) run by two
/// `clerk-functions` processes at once against one PostgreSQL.
///
/// What "right" is: a refused message is kept exactly once, however many processes refuse it together,
/// and nothing else changes. `record` already had that from its delivery row (`webhook_deliveries`,
/// unique on svix-id and environment). `keep` was append-only, so a message redelivered to two relays
/// (the Amazon MQ trigger returns the whole batch when any message in it hits a retryable failure, and
/// redelivers a batch whose invocation timed out) was kept once per relay: `queue_rejects` showed the
/// operator one refusal per redelivery, and replaying the table replayed the same body that many times.
/// Since migration 12 a message is the same message when its source, message id, reason and body are all
/// the same, and it is kept once (`ON CONFLICT DO NOTHING`). The message id alone is not a key: Amazon MQ
/// messages without a `messageId` are named by their place in the batch (`queue#0`), so two different
/// messages can share one, and both must be kept (tested below).
///
/// Both processes are held at the write by a test transaction that locks the table against writes, and
/// let go together once both wait on it, so every run exercises the race rather than hoping for it.
final class ConcurrentRejectionTests: XCTestCase {
    var f: WebhookFixture!

    // XCTest keeps every test case alive until the run ends: release its connections and servers now.
    override func tearDown() { f = nil }

    override func setUpWithError() throws { f = try WebhookFixture() }

    /// `clerk-functions invoke FUNCTION --event -` in a child process, started now; its output when it ends.
    final class Invocation: @unchecked Sendable {
        private let process: ChildProcess

        init(_ function: String, event: [UInt8], environment: [String: String]) {
            process = ChildProcess(invoke: function, event: event, environment: TestSupport.childEnvironment(environment))
        }

        /// What the function answered (the whole response object) and what it logged, once it ended with exit code 0.
        func output(file: StaticString = #filePath, line: UInt = #line) throws -> (response: JSONValue, logs: String) {
            let r = try process.result()
            XCTAssertEqual(r.exit.code, 0, r.stderr.text, file: file, line: line)
            return (try JSONValue.parse(r.stdout), r.stderr.text)
        }

        /// The HTTP status and body of an API Gateway answer, and the log.
        func answer(file: StaticString = #filePath, line: UInt = #line) throws -> (status: Int, body: JSONValue, logs: String) {
            let (response, logs) = try output(file: file, line: line)
            let body = try JSONValue.parse(Array((response["body"]?.stringValue ?? "null").utf8))
            return (Int(response["statusCode"]?.doubleValue ?? -1), body, logs)
        }
    }

    var environment: [String: String] {
        ["DATABASE_URL": TestDatabase.url, "PROD_CLERK_WEBHOOK_SECRET": f.prodSecret, "DEV_CLERK_WEBHOOK_SECRET": f.devSecret]
    }

    /// Locks `tables` against writes (reads go on), starts the invocations, waits until `writers` statements
    /// wait on those locks, then lets them all go at once by committing.
    func releasedTogether(
        _ tables: [String], writers: Int, _ start: () -> [Invocation],
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> [Invocation] {
        let gate = try TestDatabase.connect()
        let relations = tables.map { "'\($0)'::regclass" }.joined(separator: ", ")
        return try gate.transaction { c in
            for table in tables { try c.query("LOCK TABLE \(table) IN SHARE ROW EXCLUSIVE MODE") }
            let started = start()
            let deadline = Clock.nowMs() + 60_000
            var waiting = 0
            while Clock.nowMs() < deadline {
                waiting =
                    try c.query("SELECT count(*) AS n FROM pg_locks WHERE NOT granted AND relation IN (\(relations))")
                    .first?.decode("n", as: Int.self) ?? 0
                if waiting >= writers { break }
                usleep(20_000)
            }
            XCTAssertEqual(waiting, writers, "every process reached the write before any was let go", file: file, line: line)
            return started
        }
    }

    /// An Amazon MQ event carrying `messages` (`id` nil: no AMQP message id, as some publishers send),
    /// signed with `signedWith` when given.
    func rmq(_ messages: [(id: String?, body: [UInt8], signedWith: String?)]) throws -> [UInt8] {
        let list: [JSONValue] = try messages.map { m in
            var headers = JSONObject()
            if let secret = m.signedWith {
                let h = WebhookSigner(secret: try WebhookSecret(secret)).headers(
                    id: "msg_\(m.id ?? "anon")", timestamp: Clock.nowSeconds(), body: m.body)
                for (k, v) in h { headers[k] = .object(["bytes": .array(v.utf8.map { .number(Double($0)) })]) }
            }
            var properties: JSONObject = ["contentType": .string("application/json"), "headers": .object(headers)]
            if let id = m.id { properties["messageId"] = .string(id) }
            return .object(["basicProperties": .object(properties), "redelivered": .bool(true), "data": .string(Base64.encode(m.body))])
        }
        return Array(
            JSONValue.object([
                "eventSource": .string("aws:rmq"), "eventSourceArn": .string("arn:aws:mq:us-east-1:1:broker:b"),
                "rmqMessagesByQueue": .object(["clerk-events::/": .array(list)])
            ]).serialized().utf8)
    }

    /// A user event body PostgreSQL refuses as data: a creation time past the timestamp range (22008).
    func outOfRange(type: String, id: String) -> [UInt8] {
        Array(
            f.userBody(type: type, id: id, updatedAt: 1_735_732_800_200).text
                .replacingOccurrences(of: "1735732800123", with: "9223372036854775807").utf8)
    }

    func rejects() throws -> [(source: String, messageId: String, reason: String, body: String)] {
        try f.db.query("SELECT source, message_id, reason, body FROM queue_rejects ORDER BY id").map {
            (
                try $0.decode("source", as: String.self), try $0.decode("message_id", as: String.self),
                try $0.decode("reason", as: String.self), try $0.decode("body", as: String.self)
            )
        }
    }

    func deliveries() throws -> [String: String] {
        var out: [String: String] = [:]
        for row in try f.db.query("SELECT svix_id, outcome FROM webhook_deliveries") {
            out[try row.decode("svix_id", as: String.self)] = try row.decodeIfPresent("outcome", as: String.self) ?? "null"
        }
        return out
    }

    func assertNoSecretsIn(_ logs: String, file: StaticString = #filePath, line: UInt = #line) {
        for secret in [f.prodSecret, f.devSecret] {
            XCTAssertFalse(logs.contains(String(secret.dropFirst(6))), "a secret leaked", file: file, line: line)
        }
    }

    // MARK: record (webhook)

    func testTheSameRefusedWebhookDeliveryInTwoProcessesIsRecordedOnce() throws {
        let body = outOfRange(type: "user.updated", id: "user_refused")
        let event = try f.signed(body, id: "msg_refused_twice")
        let both = try releasedTogether(["webhook_deliveries"], writers: 2) {
            [
                Invocation("onUserUpdated", event: event, environment: environment),
                Invocation("onUserUpdated", event: event, environment: environment)
            ]
        }
        for answer in try both.map({ try $0.answer() }) {
            XCTAssertEqual(answer.status, 200, "a retry would fail the same way: Svix must stop (\(answer.body))")
            XCTAssertEqual(answer.body["status"]?.stringValue, "rejected", "\(answer.body)")
            XCTAssertEqual(answer.body["error"]?.stringValue, "data_error")
            XCTAssertEqual(answer.body["sqlState"]?.stringValue, "22008")
            XCTAssertTrue(answer.logs.contains("\"reason\":\"data_error\""), answer.logs)
            XCTAssertFalse(answer.logs.contains("user_refused\",\"object\""), "the body is not logged")
            assertNoSecretsIn(answer.logs)
        }
        XCTAssertEqual(try deliveries(), ["msg_refused_twice": "rejected"], "one delivery, recorded as rejected")
        let kept = try rejects()
        XCTAssertEqual(kept.count, 1, "kept once, not lost and not twice: \(kept.map(\.messageId))")
        XCTAssertEqual(kept.first?.source, "webhook")
        XCTAssertEqual(kept.first?.messageId, "msg_refused_twice")
        XCTAssertEqual(kept.first?.reason, "data_error 22008")
        XCTAssertEqual(kept.first?.body, body.text, "the body as it came, for a person")
        for table in ["users", "outbox", "api_keys"] { XCTAssertEqual(try f.count(table), 0, "\(table): nothing else changed") }
    }

    func testARefusedWebhookDeliveryRacingAnAcceptedOneForTheSameUser() throws {
        let created = try f.signed(
            f.userBody(type: "user.created", id: "user_race", updatedAt: 1_735_732_800_100, firstName: "Ada"), id: "msg_accepted")
        let refusedBody = outOfRange(type: "user.updated", id: "user_race")
        let refused = try f.signed(refusedBody, id: "msg_refused")
        // Both wait on webhook_deliveries: the accepted one at the sync's delivery row, the refused one at its rejection.
        let both = try releasedTogether(["webhook_deliveries"], writers: 2) {
            [
                Invocation("onUserCreated", event: created, environment: environment),
                Invocation("onUserUpdated", event: refused, environment: environment)
            ]
        }
        let accepted = try both[0].answer()
        let rejected = try both[1].answer()
        XCTAssertEqual(accepted.status, 200, "\(accepted.body)")
        XCTAssertEqual(accepted.body["status"]?.stringValue, "processed")
        XCTAssertEqual(rejected.status, 200, "\(rejected.body)")
        XCTAssertEqual(rejected.body["status"]?.stringValue, "rejected")
        XCTAssertEqual(rejected.body["sqlState"]?.stringValue, "22008")

        XCTAssertEqual(try deliveries(), ["msg_accepted": "processed", "msg_refused": "rejected"])
        let user = try XCTUnwrap(f.user("user_race"))
        XCTAssertEqual(user["first_name"], "Ada")
        XCTAssertEqual(user["updated_ms"], "1735732800100", "the accepted event, untouched by the refused one")
        XCTAssertEqual(user["id"], accepted.body["userId"]?.stringValue)
        let events = try f.db.query("SELECT payload->>'type' AS type, payload->>'clerkUserId' AS clerk FROM outbox").map {
            "\(try $0.decode("type", as: String.self)) \(try $0.decode("clerk", as: String.self))"
        }
        XCTAssertEqual(events, ["user.created user_race"], "the accepted event applied once; the refused one published nothing")
        let kept = try rejects()
        XCTAssertEqual(kept.map(\.messageId), ["msg_refused"], "only the refused delivery is kept")
        XCTAssertEqual(kept.first?.body, refusedBody.text)
        XCTAssertEqual(try f.count("users"), 1)
    }

    // MARK: keep (Amazon MQ)

    func testTheSameRefusedQueueMessageRedeliveredToTwoRelaysIsKeptOnce() throws {
        // Signed with a secret this deployment does not have: refused (signature_mismatch), kept for a person.
        let forged = WebhookSigner.newSecret()
        let body = f.deletedBody(id: "user_kept")
        let batch = try rmq([("amq-forged-1", body, forged)])
        _ = try f.invoke("onUserCreated", f.signed(f.userBody(type: "user.created", id: "user_kept", updatedAt: 1_735_732_800_100)))
        let outboxBefore = try f.count("outbox")
        // Before migration 12: two rows, one per relay.
        let relays = try releasedTogether(["queue_rejects"], writers: 2) {
            [
                Invocation("onUserDeleted", event: batch, environment: environment),
                Invocation("onUserDeleted", event: batch, environment: environment)
            ]
        }
        for (response, logs) in try relays.map({ try $0.output() }) {
            XCTAssertEqual(
                response, .object(["batchItemFailures": .array([]), "applied": .number(0), "rejected": .number(1)]),
                "acknowledged by both: kept, so nothing is lost")
            XCTAssertTrue(logs.contains("\"reason\":\"signature_mismatch\""), logs)
            XCTAssertFalse(logs.contains(String(forged.dropFirst(6))), "the signing secret is not logged")
            assertNoSecretsIn(logs)
        }
        var kept = try rejects()
        XCTAssertEqual(kept.count, 1, "the same message is kept once, not once per relay: \(kept.map(\.messageId))")
        XCTAssertEqual(kept.first?.source, "rabbitmq")
        XCTAssertEqual(kept.first?.messageId, "amq-forged-1")
        XCTAssertEqual(kept.first?.reason, "signature_mismatch")
        XCTAssertEqual(kept.first?.body, body.text)
        XCTAssertEqual(try f.user("user_kept")?["deleted"], "false", "the forged deletion changed nothing")
        XCTAssertEqual(try f.count("outbox"), outboxBefore)
        XCTAssertEqual(try f.count("webhook_deliveries"), 1, "only the earlier, genuine delivery")

        // A third redelivery, later and alone (the usual case: the batch came back for another message's sake).
        let again = try Invocation("onUserDeleted", event: batch, environment: environment).output()
        XCTAssertEqual(again.response["rejected"]?.doubleValue, 1)
        kept = try rejects()
        XCTAssertEqual(kept.count, 1, "still once")
    }

    func testDifferentQueueMessagesSharingAnIdAreBothKept() throws {
        // No AMQP message id: both are named `clerk-events::/#0`, by their place in their batch. Unsigned, so
        // refused (signature_required). Each body must survive: the key is the message, not the name.
        let first = f.deletedBody(id: "user_one")
        let second = f.deletedBody(id: "user_two")
        let batches = [try rmq([(nil, first, nil)]), try rmq([(nil, second, nil)])]
        let relays = try releasedTogether(["queue_rejects"], writers: 2) {
            batches.map { Invocation("onUserDeleted", event: $0, environment: environment) }
        }
        for (response, logs) in try relays.map({ try $0.output() }) {
            XCTAssertEqual(response["rejected"]?.doubleValue, 1, "\(response)")
            XCTAssertTrue(logs.contains("\"reason\":\"signature_required\""), logs)
        }
        let kept = try rejects()
        XCTAssertEqual(kept.map(\.messageId), ["clerk-events::/#0", "clerk-events::/#0"])
        XCTAssertEqual(Set(kept.map(\.body)), [first.text, second.text], "both bodies kept")
        XCTAssertEqual(Set(kept.map(\.reason)), ["signature_required"])
    }

    func testARefusedQueueMessageRacingAnAcceptedOneForTheSameUser() throws {
        // Relay one gets the genuine user.created; relay two a forged user.deleted for the same user.
        let createdBody = f.userBody(type: "user.created", id: "user_mq_race", updatedAt: 1_735_732_800_100)
        let forgedBody = f.deletedBody(id: "user_mq_race")
        let accepted = try rmq([("amq-created", createdBody, f.prodSecret)])
        let refused = try rmq([("amq-forged-2", forgedBody, WebhookSigner.newSecret())])
        // One waits on webhook_deliveries (the sync), the other on queue_rejects (keeping the refusal).
        let relays = try releasedTogether(["webhook_deliveries", "queue_rejects"], writers: 2) {
            [
                Invocation("clerkWebhook", event: accepted, environment: environment),
                Invocation("clerkWebhook", event: refused, environment: environment)
            ]
        }
        let one = try relays[0].output()
        let two = try relays[1].output()
        XCTAssertEqual(one.response, .object(["batchItemFailures": .array([]), "applied": .number(1), "rejected": .number(0)]))
        XCTAssertEqual(two.response, .object(["batchItemFailures": .array([]), "applied": .number(0), "rejected": .number(1)]))
        XCTAssertEqual(try deliveries(), ["msg_amq-created": "processed"], "the accepted event, once")
        let user = try XCTUnwrap(f.user("user_mq_race"))
        XCTAssertEqual(user["deleted"], "false", "the forged deletion changed nothing")
        XCTAssertEqual(user["first_name"], "Ada")
        let events = try f.db.query("SELECT payload->>'type' AS type FROM outbox").map { try $0.decode("type", as: String.self) }
        XCTAssertEqual(events, ["user.created"])
        let kept = try rejects()
        XCTAssertEqual(kept.map(\.messageId), ["amq-forged-2"])
        XCTAssertEqual(kept.first?.reason, "signature_mismatch")
        XCTAssertEqual(kept.first?.body, forgedBody.text)
    }
}
