import ClerkFunctions
import ClerkKit
import JSON
import LambdaRuntime
import LocalHosting
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The user handlers fed by SQS and Amazon MQ: partial batch failures, signatures when present or required.
final class QueueEventsTests: XCTestCase {
    var f: WebhookFixture!

    override func setUpWithError() throws { f = try WebhookFixture() }
    // XCTest keeps every test case alive to the end of the run: the fixture's connections would add up past max_connections.
    override func tearDown() { f = nil }

    func sqs(_ messages: [(id: String, body: [UInt8], signedWith: String?)]) throws -> [UInt8] {
        let records: [JSONValue] = try messages.map { m in
            var attributes = JSONObject()
            if let secret = m.signedWith {
                let h = WebhookSigner(secret: try WebhookSecret(secret)).headers(
                    id: "msg_\(m.id)", timestamp: Clock.nowSeconds() - 3600, body: m.body)
                for (k, v) in h { attributes[k] = .object(["stringValue": .string(v), "dataType": .string("String")]) }
            }
            return .object([
                "messageId": .string(m.id), "receiptHandle": .string("rh"), "body": .string(String(decoding: m.body, as: UTF8.self)),
                "attributes": .object([:]), "messageAttributes": .object(attributes), "md5OfBody": .string(""),
                "eventSource": .string("aws:sqs"), "eventSourceARN": .string("arn:aws:sqs:us-east-1:1:clerk"), "awsRegion": .string("us-east-1")
            ])
        }
        return Array(JSONValue.object(["Records": .array(records)]).serialized().utf8)
    }

    func rmq(_ messages: [(id: String, body: [UInt8], signedWith: String?)]) throws -> [UInt8] {
        let list: [JSONValue] = try messages.map { m in
            var headers = JSONObject()
            if let secret = m.signedWith {
                let h = WebhookSigner(secret: try WebhookSecret(secret)).headers(id: "msg_\(m.id)", timestamp: Clock.nowSeconds(), body: m.body)
                // Amazon MQ hands AMQP string headers over as byte arrays.
                for (k, v) in h { headers[k] = .object(["bytes": .array(v.utf8.map { .number(Double($0)) })]) }
            }
            return .object([
                "basicProperties": .object([
                    "contentType": .string("application/json"), "deliveryMode": .number(2),
                    "headers": .object(headers), "messageId": .string(m.id)
                ]),
                "redelivered": .bool(false), "data": .string(Base64.encode(m.body))
            ])
        }
        return Array(
            JSONValue.object([
                "eventSource": .string("aws:rmq"), "eventSourceArn": .string("arn:aws:mq:us-east-1:1:broker:b"),
                "rmqMessagesByQueue": .object(["clerk-events::/": .array(list)])
            ]).serialized().utf8)
    }

    func users() throws -> Int { try f.count("users") }

    /// The queue batches' EMF lines that `body` writes.
    func queueMetrics(_ body: () throws -> Void) throws -> [JSONValue] {
        try captureMetrics(function: "clerkWebhook", body).filter { $0["QueueApplied"] != nil }
    }

    func testAnUnsignedQueuedEventIsRefusedByDefault() throws {
        // Before: an unsigned SQS record tombstoned a user. Anyone able to write to the queue could do it.
        _ = try f.invoke("onUserCreated", f.signed(f.userBody(type: "user.created", id: "user_victim", updatedAt: 1)))
        let out = try JSONValue.parse(f.harness.invoke("onUserDeleted", event: sqs([("m1", f.deletedBody(id: "user_victim"), nil)])))
        XCTAssertEqual(out["batchItemFailures"], .array([.object(["itemIdentifier": .string("m1")])]))
        XCTAssertEqual(try f.user("user_victim")?["deleted"], "false", "not tombstoned")
        XCTAssertTrue(f.logs.contains("\"reason\":\"signature_required\""))
        // Amazon MQ: kept in queue_rejects for a person, not applied.
        let mq = try JSONValue.parse(f.harness.invoke("onUserDeleted", event: rmq([("r1", f.deletedBody(id: "user_victim"), nil)])))
        XCTAssertEqual(mq["rejected"]?.doubleValue, 1)
        XCTAssertEqual(try f.user("user_victim")?["deleted"], "false")
    }

    func testAnUnsignedAmazonMQMessageWithARawNULIsKeptWithoutIt() throws {
        // Before: the insert into queue_rejects failed on the NUL (text cannot hold it), the failure was
        // swallowed, and the message, acknowledged, was gone.
        var body = f.deletedBody(id: "user_nul")
        body.insert(0, at: 10)
        let out = try JSONValue.parse(f.harness.invoke("onUserDeleted", event: rmq([("r-nul", body, nil)])))
        XCTAssertEqual(out["rejected"]?.doubleValue, 1)
        let kept = try XCTUnwrap(f.db.query("SELECT message_id, reason, body FROM queue_rejects").first)
        XCTAssertEqual(try kept.decode("message_id", as: String.self), "r-nul")
        XCTAssertEqual(try kept.decode("reason", as: String.self), "signature_required")
        XCTAssertEqual(try kept.decode("body", as: String.self), String(decoding: f.deletedBody(id: "user_nul"), as: UTF8.self))
    }

    /// Amazon MQ `data` that is not base64 is kept as it came, refused with its own reason, and the batch's other
    /// messages applied. Before, it was read as an empty body: refused as a signature mismatch and kept empty,
    /// so what arrived was lost (found by FuzzEvents' strict-reader property).
    func testAnAmazonMQMessageWhoseDataIsNotBase64IsKeptAsItCame() throws {
        let good = f.userBody(type: "user.created", id: "user_b64ok", updatedAt: 1)
        let bad = f.userBody(type: "user.created", id: "user_b64bad", updatedAt: 1)
        let event = String(decoding: try rmq([("good", good, f.prodSecret), ("bad", bad, f.prodSecret)]), as: UTF8.self)
            .replacingOccurrences(of: Base64.encode(bad), with: "%%not base64%%")
        let out = try JSONValue.parse(f.harness.invoke("onUserCreated", event: Array(event.utf8)))
        XCTAssertEqual(out["applied"]?.doubleValue, 1)
        XCTAssertEqual(out["rejected"]?.doubleValue, 1)
        XCTAssertNotNil(try f.user("user_b64ok"))
        let kept = try XCTUnwrap(f.db.query("SELECT message_id, reason, body FROM queue_rejects").first)
        XCTAssertEqual(try kept.decode("message_id", as: String.self), "bad")
        XCTAssertEqual(try kept.decode("reason", as: String.self), "data_not_base64")
        XCTAssertEqual(try kept.decode("body", as: String.self), "%%not base64%%")
        XCTAssertTrue(f.logs.contains("\"reason\":\"data_not_base64\""), f.logs)
    }

    func testQueuedNULIsRemovedAndADataErrorIsRecordedNotRetried() throws {
        let withNUL = f.userBody(type: "user.created", id: "user_qn", updatedAt: 1, firstName: "Ada\\u0000X")
        let outOfRange = Array(
            String(decoding: f.userBody(type: "user.created", id: "user_qr", updatedAt: 1), as: UTF8.self)
                .replacingOccurrences(of: "1735732800123", with: "9223372036854775807").utf8)
        let out = try JSONValue.parse(
            f.harness.invoke(
                "onUserCreated",
                event: sqs([
                    ("n1", withNUL, f.prodSecret), ("d1", outOfRange, f.prodSecret)
                ])))
        XCTAssertEqual(out["batchItemFailures"], .array([]), "a data error would fail again: recorded, not returned to the queue")
        XCTAssertEqual(try f.user("user_qn")?["first_name"], "AdaX")
        XCTAssertNil(try f.user("user_qr"))
        let kept = try XCTUnwrap(f.db.query("SELECT source, reason FROM queue_rejects").first)
        XCTAssertEqual(try kept.decode("source", as: String.self), "sqs")
        XCTAssertEqual(try kept.decode("reason", as: String.self), "data_error 22008")
        XCTAssertTrue(f.logs.contains("\"nulRemoved\":1"), f.logs)
    }

    /// With the signature check off, a message names its own delivery id: one too long to index is kept as a
    /// refusal, and its batch is not sent back for good.
    func testAnUnsignedMessageWithAnOverlongDeliveryIdIsKeptNotRetriedForever() throws {
        let open = try WebhookFixture(extra: ["CLERK_QUEUE_REQUIRE_SIGNATURE": "false"])
        let body = open.userBody(type: "user.created", id: "user_long", updatedAt: 1)
        let event = JSONValue.object([
            "eventSource": .string("aws:rmq"), "eventSourceArn": .string("arn:aws:mq:us-east-1:1:broker:b"),
            "rmqMessagesByQueue": .object([
                "clerk-events::/": .array([
                    .object([
                        "basicProperties": .object([
                            "messageId": .string("long-1"),
                            "headers": .object([
                                "svix-id": .object(["bytes": .array(Array(repeating: .number(120), count: 3000))])
                            ])
                        ]),
                        "redelivered": .bool(false), "data": .string(Base64.encode(body))
                    ])
                ])
            ])
        ])
        let out = try JSONValue.parse(open.harness.invoke("clerkWebhook", event: Array(event.serialized().utf8)))
        XCTAssertEqual(out["rejected"]?.doubleValue, 1)
        let kept = try XCTUnwrap(open.db.query("SELECT message_id, reason FROM queue_rejects").first)
        XCTAssertEqual(try kept.decode("message_id", as: String.self), "long-1")
        XCTAssertEqual(try kept.decode("reason", as: String.self), "delivery_id_too_long")
        XCTAssertNil(try open.user("user_long", environment: "production"))
    }

    func testTurningTheSignatureCheckOffIsExplicitAndLogged() throws {
        let open = try WebhookFixture(extra: ["CLERK_QUEUE_REQUIRE_SIGNATURE": "false"])
        let out = try JSONValue.parse(
            open.harness.invoke(
                "onUserCreated",
                event: sqs([
                    ("m1", open.userBody(type: "user.created", id: "user_q1", updatedAt: 1), nil)
                ])))
        XCTAssertEqual(out["batchItemFailures"], .array([]))
        XCTAssertTrue(open.logs.contains("CLERK_QUEUE_REQUIRE_SIGNATURE=false"), "said once, at init")
        for typo in ["flase", "maybe"] {
            let harness = LocalHarness(
                registry: Functions.registry,
                environment: Environment([
                    "DATABASE_URL": TestDatabase.url, "PROD_CLERK_WEBHOOK_SECRET": f.prodSecret, "CLERK_QUEUE_REQUIRE_SIGNATURE": typo
                ]),
                logger: Logger(level: .error))
            XCTAssertThrowsError(try harness.invoke("onUserCreated", event: sqs([("m2", f.userBody(updatedAt: 1), nil)]))) { error in
                guard case .initFailed(let object)? = error as? HarnessError else { return XCTFail("\(error)") }
                XCTAssertTrue(object.errorMessage.contains("CLERK_QUEUE_REQUIRE_SIGNATURE"), object.errorMessage)
            }
        }
    }

    func testSQSReportsOnlyTheFailedMessages() throws {
        // Unsigned messages are accepted here only because the check is explicitly off.
        f = try WebhookFixture(extra: ["CLERK_QUEUE_REQUIRE_SIGNATURE": "false"])
        let out = try JSONValue.parse(
            f.harness.invoke(
                "onUserCreated",
                event: sqs([
                    ("m1", f.userBody(type: "user.created", id: "user_q1", updatedAt: 1), f.prodSecret),
                    ("m2", Array("{not json".utf8), nil),
                    ("m3", f.userBody(type: "user.created", id: "user_q2", updatedAt: 1), nil)
                ])))
        XCTAssertEqual(out, .object(["batchItemFailures": .array([.object(["itemIdentifier": .string("m2")])])]))
        XCTAssertEqual(try users(), 2)
        XCTAssertNotNil(try f.user("user_q1"), "signed: verified even an hour after it was signed")
        XCTAssertEqual(
            try f.db.query("SELECT svix_id FROM webhook_deliveries WHERE clerk_user_id = 'user_q1'").first?.decode("svix_id", as: String.self),
            "msg_m1", "the Svix id is the delivery id when present")
        // Redelivery of the unsigned message: deduplicated by its queue message id.
        let again = try JSONValue.parse(
            f.harness.invoke(
                "onUserCreated",
                event: sqs([
                    ("m3", f.userBody(type: "user.created", id: "user_q2", updatedAt: 1), nil)
                ])))
        XCTAssertEqual(again["batchItemFailures"], .array([]))
        XCTAssertEqual(try f.count("webhook_deliveries"), 2)
    }

    func testSQSWithABadSignatureOrAMissingRequiredOneFails() throws {
        let bad = try JSONValue.parse(
            f.harness.invoke(
                "onUserCreated",
                event: sqs([
                    ("m1", f.userBody(type: "user.created", updatedAt: 1), WebhookSigner.newSecret())
                ])))
        XCTAssertEqual(bad["batchItemFailures"], .array([.object(["itemIdentifier": .string("m1")])]))
        let strict = try WebhookFixture(extra: ["CLERK_QUEUE_REQUIRE_SIGNATURE": "true"])
        let unsigned = try JSONValue.parse(
            strict.harness.invoke(
                "onUserCreated",
                event: sqs([
                    ("m2", strict.userBody(type: "user.created", updatedAt: 1), nil)
                ])))
        XCTAssertEqual(unsigned["batchItemFailures"], .array([.object(["itemIdentifier": .string("m2")])]))
        XCTAssertTrue(strict.logs.contains("\"reason\":\"signature_required\""))
        XCTAssertEqual(try users(), 0)
    }

    func testAmazonMQKeepsRejectsAndAppliesTheRest() throws {
        let out = try JSONValue.parse(
            f.harness.invoke(
                "clerkWebhook",
                event: rmq([
                    ("r1", f.userBody(type: "user.created", id: "user_r1", updatedAt: 1), f.devSecret),
                    ("r2", f.userBody(type: "user.created", id: "user_r2", updatedAt: 1), WebhookSigner.newSecret())
                ])))
        XCTAssertEqual(out["applied"]?.doubleValue, 1)
        XCTAssertEqual(out["rejected"]?.doubleValue, 1)
        XCTAssertNotNil(try f.user("user_r1", environment: "development"), "the secret that matched decides the environment")
        let reject = try XCTUnwrap(f.db.query("SELECT message_id, reason, body FROM queue_rejects").first)
        XCTAssertEqual(try reject.decode("message_id", as: String.self), "r2")
        XCTAssertEqual(try reject.decode("reason", as: String.self), "signature_mismatch")
        XCTAssertTrue(try reject.decode("body", as: String.self).contains("user_r2"), "kept, not lost")
    }

    /// One EMF line per batch counts what happened to its messages, by source.
    func testABatchCountsItsOutcomesInEmbeddedMetricFormat() throws {
        let lines = try queueMetrics {
            _ = try f.harness.invoke(
                "clerkWebhook",
                event: rmq([
                    ("m1", f.userBody(type: "user.created", id: "user_m1", updatedAt: 1), f.devSecret),
                    ("m2", f.userBody(type: "user.created", id: "user_m2", updatedAt: 1), WebhookSigner.newSecret()),
                    ("m3", f.userBody(type: "user.created", id: "user_m3", updatedAt: 1), f.prodSecret)
                ]))
            _ = try f.harness.invoke("clerkWebhook", event: sqs([("s1", f.userBody(type: "user.created", id: "user_s1", updatedAt: 1), nil)]))
        }
        XCTAssertEqual(lines.count, 2)
        let rabbit = try XCTUnwrap(lines.first { $0["source"]?.stringValue == "rabbitmq" })
        XCTAssertEqual(rabbit["QueueApplied"]?.doubleValue, 2)
        XCTAssertEqual(rabbit["QueueRejected"]?.doubleValue, 1)
        XCTAssertEqual(rabbit["QueueRetried"]?.doubleValue, 0)
        XCTAssertEqual(rabbit["function"]?.stringValue, "clerkWebhook")
        let queue = try XCTUnwrap(lines.first { $0["source"]?.stringValue == "sqs" })
        XCTAssertEqual(queue["QueueRejected"]?.doubleValue, 1, "unsigned, and signatures are required")
    }

    /// A refused Amazon MQ message that cannot be kept (here: the disk is full) sends the batch back: it counts as
    /// retried, not as rejected. Before, it counted as QueueRejected (an alarm looking for set-aside messages found
    /// none) and QueueRetried stayed 0 while the broker redelivered the batch in a loop.
    func testAnAmazonMQRejectThatCannotBeKeptCountsAsRetried() throws {
        try f.db.query(
            """
            CREATE OR REPLACE FUNCTION queue_rejects_full() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION 'could not extend file' USING ERRCODE = '53100'; END $$
            """)
        try f.db.query("CREATE TRIGGER queue_rejects_full BEFORE INSERT ON queue_rejects FOR EACH ROW EXECUTE FUNCTION queue_rejects_full()")
        defer {
            _ = try? f.db.query("DROP TRIGGER IF EXISTS queue_rejects_full ON queue_rejects")
            _ = try? f.db.query("DROP FUNCTION IF EXISTS queue_rejects_full()")
        }
        let lines = try queueMetrics {
            XCTAssertThrowsError(
                try f.harness.invoke(
                    "clerkWebhook",
                    event: rmq([
                        ("k1", f.userBody(type: "user.created", id: "user_k1", updatedAt: 1), f.devSecret),
                        ("k2", f.userBody(type: "user.created", id: "user_k2", updatedAt: 1), WebhookSigner.newSecret())
                    ]))
            ) { error in
                guard case .functionError(let object)? = error as? HarnessError else { return XCTFail("\(error)") }
                XCTAssertEqual(object.errorType, "QueueBatchRetry")
            }
        }
        let line = try XCTUnwrap(lines.first)
        XCTAssertEqual(lines.count, 1)
        XCTAssertEqual(line["QueueApplied"]?.doubleValue, 1)
        XCTAssertEqual(line["QueueRejected"]?.doubleValue, 0, "nothing was set aside")
        XCTAssertEqual(line["QueueRetried"]?.doubleValue, 1, "the refused message comes back with its batch")
        XCTAssertEqual(try f.count("queue_rejects"), 0)
    }

    func testAmazonMQReturnsTheWholeBatchWhenARetryCouldHelp() throws {
        let down = try WebhookFixture(extra: [
            "DATABASE_URL": "postgresql://nobody@/x?host=/nonexistent-socket-dir",
            "DATABASE_CONNECT_TIMEOUT": "1"
        ])
        XCTAssertThrowsError(
            try down.harness.invoke(
                "onUserCreated",
                event: rmq([
                    ("r1", down.userBody(type: "user.created", updatedAt: 1), down.prodSecret)
                ]))
        ) { error in
            guard case .functionError(let object)? = error as? HarnessError else { return XCTFail("\(error)") }
            XCTAssertEqual(object.errorType, "QueueBatchRetry")
        }
    }

    func testTheSampleQueueEvents() throws {
        // Signed as `invoke --sign` (and so `make run`) signs them: fresh Svix headers on every message.
        let signer = WebhookSigner(secret: try WebhookSecret(f.prodSecret))
        let sqsEvent = try WebhookEventBuilder.resign(BuiltProducts.event("onUserCreated.sqs.signed.json"), signer: signer)
        let sqsOut = try JSONValue.parse(f.harness.invoke("onUserCreated", event: sqsEvent))
        XCTAssertEqual(sqsOut["batchItemFailures"], .array([]))
        XCTAssertEqual(try f.count("webhook_deliveries"), 1)
        let mqEvent = try WebhookEventBuilder.resign(BuiltProducts.event("onUserUpdated.rabbitmq.signed.json"), signer: signer)
        let mqOut = try JSONValue.parse(f.harness.invoke("onUserUpdated", event: mqEvent))
        XCTAssertEqual(mqOut["applied"]?.doubleValue, 1)
        XCTAssertEqual(try f.user("user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF")?["first_name"], "Augusta")
        // As stored, unsigned: refused now that signatures are required by default.
        let unsigned = try JSONValue.parse(f.harness.invoke("onUserCreated", event: BuiltProducts.event("onUserCreated.sqs.signed.json")))
        guard case .array(let failed)? = unsigned["batchItemFailures"] else { return XCTFail("\(unsigned)") }
        XCTAssertEqual(failed.count, 1)
    }

    func testAnAmazonMQBatchTheDecoderRefusesGoesBackInsteadOfBeingAcknowledged() throws {
        // Before: one message whose AMQP headers nest tables deeper than the decoder's 512 levels (anyone who
        // can publish can send one) made the whole event unreadable; it was then answered as a malformed HTTP
        // request (400), a success to Lambda, so the batch, the good signed message with it, was acknowledged
        // and lost. Called directly: the local harness refuses such an event before the handler, Lambda does not.
        let body = f.userBody(type: "user.created", id: "user_deep", updatedAt: 1)
        let signed = try JSONValue.parse(rmq([("good", body, f.prodSecret)]))
        guard case .array(var list)? = signed["rmqMessagesByQueue"]?["clerk-events::/"] else { return XCTFail("\(signed)") }
        var deep = JSONValue.string("x")
        for _ in 0..<600 { deep = .object(["t": deep]) }
        list.append(
            .object([
                "basicProperties": .object(["headers": .object(["x-nested": deep]), "messageId": .string("deep")]),
                "data": .string(Base64.encode(body))
            ]))
        let event = Array(
            JSONValue.object(["eventSource": .string("aws:rmq"), "rmqMessagesByQueue": .object(["clerk-events::/": .array(list)])])
                .serialized().utf8)
        let handler = try XCTUnwrap(Functions.registry["onUserCreated"]).makeHandler(
            InitContext(environment: f.harness.environment, logger: f.harness.logger))
        let context = Context(
            requestId: "req-deep", deadlineMs: Clock.nowMs() + 30_000, invokedFunctionArn: "arn:aws:lambda:local:0:function:onUserCreated",
            traceId: "Root=1-0-0", function: FunctionIdentity(name: "onUserCreated"), logger: f.harness.logger)
        XCTAssertThrowsError(try handler.handle(event, context: context)) { error in
            XCTAssertEqual(LambdaErrorObject(error).errorType, "QueueBatchUnreadable")
        }
        XCTAssertTrue(f.logs.contains("queue batch unreadable"), f.logs)
        XCTAssertTrue(f.logs.contains("\"reason\":\"malformed JSON at the top level\""), f.logs)
        XCTAssertFalse(f.logs.contains("malformed_request"), "not answered as an HTTP request")
        // An SQS event whose records lack what every SQS record has: also sent back, not answered 400.
        let broken = Array(#"{"Records":[{"eventSource":"aws:sqs"}]}"#.utf8)
        XCTAssertThrowsError(try handler.handle(broken, context: context)) { error in
            XCTAssertEqual(LambdaErrorObject(error).errorType, "QueueBatchUnreadable")
        }
        XCTAssertTrue(f.logs.contains("missing key messageId at Records.0"), f.logs)
    }
}
