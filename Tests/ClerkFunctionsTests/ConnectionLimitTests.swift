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

/// PostgreSQL out of connections while more function processes run than it lets in: every refused process
/// answers "come back later" in its event's own terms (503, the batch back to its queue, an authorizer
/// error), never a denial and never a loss, and the retry converges.
///
/// How the server runs out: the processes connect as a role this test makes with `CONNECTION LIMIT n`, so
/// a connection past n is refused at startup with SQLSTATE 53300, "too many connections for role". That is
/// what a server at `max_connections` answers too ("sorry, too many clients already", also 53300), the
/// same way: a FATAL before the session exists, which libpq reports as a failed connection start. A role's
/// limit keeps the shortage to this test's processes: the test's own (superuser) connections, and every
/// other test's, are not counted, and the shared server never has to be restarted with another setting.
///
/// The overlap is made, not hoped for: the test locks the tables the functions write first against writes
/// (a gate), so each process that got a connection waits there, connection held, visible in `pg_locks`,
/// while the others are refused; only after every refused process has answered is the gate opened.
final class ConnectionLimitTests: XCTestCase {
    static let role = "clerk_connection_limit"
    /// Only for a server that asks for one (the private test server trusts local connections).
    let rolePassword = "limit-\(Clock.monotonicNs())"
    var f: WebhookFixture!
    var tokens: TokenFixture!
    var standIn: ClerkAPIStandIn!

    override func setUpWithError() throws { f = try WebhookFixture() }

    // XCTest keeps every test case alive until the run ends: release its connections and servers now.
    override func tearDown() {
        _ = try? f?.db.executeScript("DROP OWNED BY \(Self.role); DROP ROLE IF EXISTS \(Self.role)")
        f = nil
        tokens = nil
        standIn = nil
    }

    // MARK: The role, the gate, the processes

    /// (Re)makes the role, allowed `limit` connections and the rights the functions use.
    func limitRole(to limit: Int) throws {
        try f.db.executeScript(
            """
            DO $$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '\(Self.role)') THEN CREATE ROLE \(Self.role) LOGIN; END IF;
            END $$;
            ALTER ROLE \(Self.role) LOGIN NOSUPERUSER CONNECTION LIMIT \(limit) PASSWORD '\(rolePassword)';
            GRANT USAGE ON SCHEMA public TO \(Self.role);
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \(Self.role);
            GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO \(Self.role);
            """)
    }

    /// `DATABASE_URL` with the role as its user.
    var limitedURL: String {
        let url = TestDatabase.url
        guard let scheme = url.range(of: "://") else { return url + " user=\(Self.role)" }
        let rest = url[scheme.upperBound...]
        let end = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let host = rest[..<end].split(separator: "@", omittingEmptySubsequences: false).last ?? ""
        return String(url[..<scheme.upperBound]) + Self.role + "@" + host + rest[end...]
    }

    /// What every function process gets: the role's URL and password, the webhook secret, and `extra`.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        ["DATABASE_URL": limitedURL, "DATABASE_PASSWORD": rolePassword, "PROD_CLERK_WEBHOOK_SECRET": f.prodSecret]
            .merging(extra) { $1 }
    }

    /// The role's connections the server shows.
    func roleConnections() throws -> Int {
        try XCTUnwrap(f.db.query("SELECT count(*) AS n FROM pg_stat_activity WHERE usename = $1", [Self.role]).first)
            .decode("n", as: Int.self)
    }

    /// Waits until the server has let each of `backends` go, once their clients have ended: a backend leaves
    /// `pg_stat_activity` a moment before its slot counts as free, so this waits on the server processes.
    func waitForExit(of backends: [Int]) throws {
        for pid in backends { try f.db.query("SELECT pg_terminate_backend($1::int, 10000)", [pid]) }
    }

    /// Whether `condition` comes true within 60 s (checked every 20 ms).
    func eventually(_ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Clock.nowMs() + 60_000
        while Clock.nowMs() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return try condition()
    }

    /// The test's hold on writes to some tables (reads go on), from a connection outside the role's limit.
    struct Gate {
        let connection: PostgresConnection
        let relations: String

        /// The server processes waiting at the gate, one per function process that has a connection.
        func waiting() throws -> [Int] {
            try connection.query("SELECT DISTINCT pid FROM pg_locks WHERE NOT granted AND relation IN (\(relations)) ORDER BY pid")
                .map { try $0.decode("pid", as: Int.self) }
        }
    }

    /// Runs `body` with `tables` locked against writes; the gate opens (commit) when it returns.
    func withGate<T>(_ tables: [String], _ body: (Gate) throws -> T) throws -> T {
        let connection = try TestDatabase.connect()
        return try connection.transaction { c in
            for table in tables { try c.query("LOCK TABLE \(table) IN SHARE ROW EXCLUSIVE MODE") }
            return try body(Gate(connection: c, relations: tables.map { "'\($0)'::regclass" }.joined(separator: ", ")))
        }
    }

    /// `clerk-functions invoke FUNCTION --event -` in a child process, started now.
    final class Invocation: @unchecked Sendable {
        private let done = ConditionLock()
        private var result: (exit: Int32, stdout: [UInt8], stderr: [UInt8])?

        init(_ function: String, event: [UInt8], environment: [String: String]) {
            Threads.detach { [self] in
                let r = try? Subprocess.run(
                    path: BuiltProducts.clerkFunctions, arguments: ["invoke", function, "--event", "-"],
                    environment: TestSupport.childEnvironment(environment), stdinBytes: event)
                done.withLock { result = (r?.exit.code ?? -1, r?.stdout ?? [], r?.stderr ?? []) }
                done.broadcast()
            }
        }

        /// Whether the process has ended.
        var isFinished: Bool { done.withLock { result != nil } }

        /// Its exit code, what it printed (the response, or the Lambda error object) and what it logged.
        func output() throws -> (exit: Int32, response: JSONValue, logs: String) {
            XCTAssertTrue(done.wait(timeoutMs: 60_000) { result != nil }, "the process did not finish")
            let (exit, stdout, stderr) = try XCTUnwrap(done.withLock { result })
            return (exit, try JSONValue.parse(stdout), stderr.text)
        }

        /// The HTTP status and body of an API Gateway answer, the exit code and the log.
        func answer() throws -> (exit: Int32, status: Int, body: JSONValue, logs: String) {
            let (exit, response, logs) = try output()
            let body = try JSONValue.parse(Array((response["body"]?.stringValue ?? "null").utf8))
            return (exit, Int(response["statusCode"]?.doubleValue ?? -1), body, logs)
        }
    }

    /// Neither secret nor password in `logs`; the refusal is named.
    func assertRefusalLogged(
        _ logs: String, reason: String = "database_unavailable",
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertTrue(logs.contains("database not reachable at init; will retry on first use"), logs, file: file, line: line)
        XCTAssertTrue(logs.contains("\"reason\":\"\(reason)\""), logs, file: file, line: line)
        XCTAssertFalse(logs.contains(String(f.prodSecret.dropFirst(6))), "the webhook secret leaked", file: file, line: line)
        XCTAssertFalse(logs.contains(rolePassword), "the database password leaked", file: file, line: line)
    }

    func deliveryIds() throws -> [String] {
        try f.db.query("SELECT svix_id FROM webhook_deliveries ORDER BY svix_id").map { try $0.decode("svix_id", as: String.self) }
    }

    /// The users' Clerk ids and first names, and how many `user.created` outbox events each has.
    func usersAndEvents() throws -> (users: [String: String], created: [String: Int]) {
        var users: [String: String] = [:]
        var created: [String: Int] = [:]
        for row in try f.db.query("SELECT clerk_user_id, coalesce(first_name, '') AS name FROM users") {
            users[try row.decode("clerk_user_id", as: String.self)] = try row.decode("name", as: String.self)
        }
        let events = "SELECT payload->>'clerkUserId' AS u, count(*) AS n FROM outbox WHERE payload->>'type' = 'user.created' GROUP BY 1"
        for row in try f.db.query(events) {
            created[try row.decode("u", as: String.self)] = try row.decode("n", as: Int.self)
        }
        return (users, created)
    }

    // MARK: Webhooks

    func testWebhookDeliveriesPastTheConnectionLimitAnswer503AndConvergeOnSvixRetry() throws {
        try limitRole(to: 2)
        let users = (0..<5).map { "user_limit_\($0)" }
        func delivery(_ i: Int) throws -> Invocation {
            let body = f.userBody(type: "user.created", id: users[i], updatedAt: 1_735_732_800_100 + Int64(i), firstName: "Ada\(i)")
            return Invocation("onUserCreated", event: try f.signed(body, id: "msg_limit_\(i)"), environment: environment())
        }
        // All five start together: whoever connects first waits at the gate, the rest are refused.
        var refused: [Int] = []
        var held: [Int] = []
        let all: [Invocation] = try withGate(["webhook_deliveries"]) { gate in
            let started = try users.indices.map(delivery)
            // A process can only finish while the gate is shut by being refused; every other one waits there.
            XCTAssertTrue(
                try eventually {
                    held = try gate.waiting()
                    return held.count + started.filter(\.isFinished).count == started.count
                }, "every process either holds a connection at the gate or has answered")
            refused = started.indices.filter { started[$0].isFinished }
            XCTAssertGreaterThanOrEqual(held.count, 1, "some held connections while the others were refused")
            XCTAssertLessThanOrEqual(held.count, 2, "never more than the role's limit")
            XCTAssertGreaterThanOrEqual(refused.count, 3, "at least as many refused as there were processes past the limit")
            XCTAssertTrue(try eventually { try roleConnections() == held.count }, "the waiting ones are the role's only connections")
            return started
        }
        for i in all.indices {
            let answer = try all[i].answer()
            XCTAssertEqual(answer.exit, 0)
            if refused.contains(i) {
                XCTAssertEqual(answer.status, 503, "\(answer.body)")
                XCTAssertEqual(answer.body["error"]?.stringValue, "database_unavailable")
                assertRefusalLogged(answer.logs)
            } else {
                XCTAssertEqual(answer.status, 200, "\(answer.body)")
                XCTAssertEqual(answer.body["status"]?.stringValue, "processed")
            }
        }
        try waitForExit(of: held)
        // Svix retries each refused delivery later (same svix-id, fresh signature); a late retry of an accepted one is a duplicate.
        for i in refused {
            let retry = try delivery(i).answer()
            XCTAssertEqual(retry.status, 200, "\(retry.body)")
            XCTAssertEqual(retry.body["status"]?.stringValue, "processed")
        }
        let accepted = try XCTUnwrap(all.indices.first { !refused.contains($0) })
        XCTAssertEqual(try delivery(accepted).answer().body["status"]?.stringValue, "duplicate")

        XCTAssertEqual(try deliveryIds(), users.indices.map { "msg_limit_\($0)" }, "one delivery row per delivery")
        let (stored, created) = try usersAndEvents()
        XCTAssertEqual(stored, Dictionary(uniqueKeysWithValues: users.enumerated().map { ($1, "Ada\($0)") }), "what the events say")
        XCTAssertEqual(created, Dictionary(uniqueKeysWithValues: users.map { ($0, 1) }), "each applied once")
    }

    // MARK: Queue batches

    /// An SQS batch of user events, signed as a Svix-to-queue bridge forwards them (svix-id `msg_<id>`).
    func sqs(_ messages: [(id: String, body: [UInt8])]) throws -> [UInt8] {
        let signer = WebhookSigner(secret: try WebhookSecret(f.prodSecret))
        let records: [JSONValue] = messages.map { m in
            var attributes = JSONObject()
            for (k, v) in signer.headers(id: "msg_\(m.id)", timestamp: Clock.nowSeconds(), body: m.body) {
                attributes[k] = .object(["stringValue": .string(v), "dataType": .string("String")])
            }
            return .object([
                "messageId": .string(m.id), "receiptHandle": .string("rh"), "body": .string(m.body.text),
                "messageAttributes": .object(attributes), "eventSource": .string("aws:sqs")
            ])
        }
        return Array(JSONValue.object(["Records": .array(records)]).serialized().utf8)
    }

    /// An Amazon MQ batch; each message signed with `secret` (a forged one: any other secret).
    func rmq(_ messages: [(id: String, body: [UInt8], secret: String)]) throws -> [UInt8] {
        let list: [JSONValue] = try messages.map { m in
            var headers = JSONObject()
            let signer = WebhookSigner(secret: try WebhookSecret(m.secret))
            for (k, v) in signer.headers(id: "msg_\(m.id)", timestamp: Clock.nowSeconds(), body: m.body) {
                headers[k] = .object(["bytes": .array(v.utf8.map { .number(Double($0)) })])
            }
            return .object([
                "basicProperties": .object(["messageId": .string(m.id), "headers": .object(headers)]),
                "redelivered": .bool(false), "data": .string(Base64.encode(m.body))
            ])
        }
        return Array(
            JSONValue.object([
                "eventSource": .string("aws:rmq"), "eventSourceArn": .string("arn:aws:mq:us-east-1:1:broker:b"),
                "rmqMessagesByQueue": .object(["clerk-events::/": .array(list)])
            ]).serialized().utf8)
    }

    func created(_ id: String) -> [UInt8] {
        f.userBody(type: "user.created", id: "user_\(id)", updatedAt: 1_735_732_800_100, firstName: "Q\(id)")
    }

    func testQueueBatchesPastTheConnectionLimitGoBackAndConvergeOnRedelivery() throws {
        try limitRole(to: 2)
        let forged = (id: "forged", body: f.deletedBody(id: "user_h1"), secret: WebhookSigner.newSecret())
        let refusedSQS = try sqs(["s1", "s2", "s3"].map { ($0, created($0)) })
        let refusedMQ = try rmq([("r1", created("r1"), f.prodSecret), ("r2", created("r2"), f.prodSecret), forged])
        let holdMQ = try rmq([("h2", created("h2"), f.prodSecret)])
        var held: [Int] = []
        let (holders, sqsOut, mqOut) = try withGate(["webhook_deliveries"]) { gate in
            let holders = [
                Invocation("onUserCreated", event: try sqs([("h1", created("h1"))]), environment: environment()),
                Invocation("onUserCreated", event: holdMQ, environment: environment())
            ]
            XCTAssertTrue(
                try eventually {
                    held = try gate.waiting()
                    return held.count == 2
                }, "both holders wait at the gate, connected")
            XCTAssertTrue(try eventually { try roleConnections() == 2 }, "the role has no connection left")
            let refused = [
                Invocation("onUserCreated", event: refusedSQS, environment: environment()),
                Invocation("onUserCreated", event: refusedMQ, environment: environment())
            ]
            let outputs = try refused.map { try $0.output() }
            XCTAssertEqual(try gate.waiting(), held, "the holders kept their connections while these were refused")
            XCTAssertFalse(holders.contains { $0.isFinished })
            return (holders, outputs[0], outputs[1])
        }
        // SQS: every message of the refused batch goes back to the queue, and only those.
        XCTAssertEqual(sqsOut.exit, 0)
        XCTAssertEqual(sqsOut.response, .object(["batchItemFailures": .array(["s1", "s2", "s3"].map { .object(["itemIdentifier": .string($0)]) })]))
        assertRefusalLogged(sqsOut.logs)
        // Amazon MQ has no partial answer: the invocation fails and the whole batch comes back (the forged message too).
        XCTAssertEqual(mqOut.exit, 1)
        XCTAssertEqual(mqOut.response["errorType"]?.stringValue, "QueueBatchRetry", "\(mqOut.response)")
        assertRefusalLogged(mqOut.logs)
        XCTAssertEqual(try holders[0].output().response, .object(["batchItemFailures": .array([])]))
        XCTAssertEqual(
            try holders[1].output().response,
            .object(["batchItemFailures": .array([]), "applied": .number(1), "rejected": .number(0)]))
        try waitForExit(of: held)

        // Redelivered: SQS only the failed messages; Amazon MQ the whole batch, twice (a lost acknowledgement).
        XCTAssertEqual(
            try Invocation("onUserCreated", event: refusedSQS, environment: environment()).output().response,
            .object(["batchItemFailures": .array([])]))
        for _ in 0..<2 {
            XCTAssertEqual(
                try Invocation("onUserCreated", event: refusedMQ, environment: environment()).output().response,
                .object(["batchItemFailures": .array([]), "applied": .number(2), "rejected": .number(1)]))
        }
        let ids = ["h1", "h2", "r1", "r2", "s1", "s2", "s3"]
        XCTAssertEqual(try deliveryIds(), ids.map { "msg_\($0)" }, "one delivery row per message")
        let (stored, events) = try usersAndEvents()
        XCTAssertEqual(stored, Dictionary(uniqueKeysWithValues: ids.map { ("user_\($0)", "Q\($0)") }), "nothing lost, nothing extra")
        XCTAssertEqual(events, Dictionary(uniqueKeysWithValues: ids.map { ("user_\($0)", 1) }), "each applied once")
        XCTAssertEqual(try f.user("user_h1")?["deleted"], "false", "the forged deletion changed nothing")
        let kept = try f.db.query("SELECT message_id, reason FROM queue_rejects").map {
            "\(try $0.decode("message_id", as: String.self)) \(try $0.decode("reason", as: String.self))"
        }
        XCTAssertEqual(kept, ["forged signature_mismatch"], "the forged message kept once, for a person")
    }

    // MARK: verifyToken

    /// `verifyToken`'s environment: the fixture's keys, and Clerk's Backend API stand-in to fill unknown users.
    func tokenEnvironment() throws -> [String: String] {
        tokens = try tokens ?? TokenFixture()
        standIn = try standIn ?? ClerkAPIStandIn()
        return environment([
            "PROD_CLERK_ISSUER": tokens.issuer, "PROD_CLERK_JWKS_URL": tokens.jwksURL,
            "PROD_CLERK_SECRET_KEY": standIn.secretKey, "CLERK_API_URL": standIn.baseURL
        ])
    }

    /// The sample event `file` carrying a fresh token for `sub`.
    func tokenEvent(_ file: String, sub: String) throws -> [UInt8] {
        Array(try BuiltProducts.event(file).text.replacingAll("DEV_SESSION_TOKEN", with: tokens.token(sub: sub)).utf8)
    }

    static let httpAPI = "verifyToken.http-api.token.json", rest = "verifyToken.rest-token.token.json", direct = "verifyToken.direct.token.json"

    func testVerifyTokenPastTheConnectionLimitErrsAndNeverDenies() throws {
        try limitRole(to: 2)
        let env = try tokenEnvironment()
        // Clerk knows the holders, not yet the others: had a refused check skipped the database and asked
        // Clerk, it would have denied them (user_not_found).
        for id in ["user_vh1", "user_vh2"] { standIn.addUser(id: id, email: "\(id)@example.com") }
        let checks = [(Self.httpAPI, "user_vr1"), (Self.rest, "user_vr2"), (Self.direct, "user_vr3")]
        var held: [Int] = []
        let (holders, outputs) = try withGate(["webhook_deliveries", "users"]) { gate in
            let holders = [
                Invocation("verifyToken", event: try tokenEvent(Self.httpAPI, sub: "user_vh1"), environment: env),
                Invocation("verifyToken", event: try tokenEvent(Self.direct, sub: "user_vh2"), environment: env)
            ]
            XCTAssertTrue(
                try eventually {
                    held = try gate.waiting()
                    return held.count == 2
                }, "both holders wait at the gate, connected")
            XCTAssertTrue(try eventually { try roleConnections() == 2 }, "the role has no connection left")
            let refused = try checks.map { Invocation("verifyToken", event: try tokenEvent($0.0, sub: $0.1), environment: env) }
            let outputs = try refused.map { try $0.output() }
            XCTAssertEqual(try gate.waiting(), held, "the holders kept their connections while these were refused")
            XCTAssertFalse(holders.contains { $0.isFinished })
            return (holders, outputs)
        }
        // The authorizer shapes err (API Gateway answers 500), the direct shape names the outage: no denial.
        for out in outputs[0...1] {
            XCTAssertEqual(out.exit, 1)
            XCTAssertEqual(out.response["errorType"]?.stringValue, "AuthorizerUnavailable", "\(out.response)")
            XCTAssertEqual(out.response["errorMessage"]?.stringValue, "cannot verify tokens right now: database_unavailable")
        }
        XCTAssertEqual(outputs[2].exit, 0)
        XCTAssertEqual(outputs[2].response, .object(["valid": .bool(false), "reason": .string("database_unavailable")]))
        for out in outputs {
            assertRefusalLogged(out.logs)
            XCTAssertFalse(out.logs.contains("user_not_found") || out.logs.contains("token rejected"), out.logs)
        }
        XCTAssertFalse(standIn.requests.contains { $0.path.contains("user_vr") }, "Clerk was never asked in place of the database")
        XCTAssertEqual(try holders[0].output().response["isAuthorized"]?.boolValue, true)
        XCTAssertEqual(try holders[1].output().response["valid"]?.boolValue, true)
        try waitForExit(of: held)

        // The caller's retry, once there is room (and Clerk knows them), lets them in.
        for (_, sub) in checks { standIn.addUser(id: sub, email: "\(sub)@example.com") }
        let retries = try checks.map { try Invocation("verifyToken", event: tokenEvent($0.0, sub: $0.1), environment: env).output() }
        XCTAssertEqual(retries[0].response["isAuthorized"]?.boolValue, true, "\(retries[0].response)")
        guard case .array(let statements)? = retries[1].response["policyDocument"]?["Statement"] else { return XCTFail("\(retries[1].response)") }
        XCTAssertEqual(statements.first?["Effect"]?.stringValue, "Allow")
        XCTAssertEqual(retries[2].response["valid"]?.boolValue, true, "\(retries[2].response)")
        XCTAssertEqual(Set(try usersAndEvents().users.keys), ["user_vh1", "user_vh2", "user_vr1", "user_vr2", "user_vr3"])
    }

    // MARK: A warm process

    /// `bootstrap` serving `function` from `api`, as Lambda runs it.
    func bootstrap(_ function: String, _ api: LocalRuntimeAPI, _ env: [String: String]) throws -> Subprocess {
        try Subprocess(
            path: BuiltProducts.bootstrap,
            environment: childEnvironment(
                env.merging(["AWS_LAMBDA_RUNTIME_API": api.endpoint, "_HANDLER": function]) { $1 }), captureOutput: true)
    }

    /// Stops the process; what it logged (a log that cannot be read fails the test, never reads as empty).
    func finish(_ api: LocalRuntimeAPI, _ p: Subprocess) throws -> String {
        api.stop()
        let err = try FileIO.readAll(fd: try XCTUnwrap(p.stderrFD))
        _ = try FileIO.readAll(fd: try XCTUnwrap(p.stdoutFD))
        _ = p.wait()
        return err.text
    }

    func testAWarmProcessRefusedAConnectionServesItsNextInvocation() throws {
        try limitRole(to: 2)
        let env = try tokenEnvironment()
        standIn.addUser(id: "user_warm", email: "warm@example.com")
        let hooks = try LocalRuntimeAPI()
        let checks = try LocalRuntimeAPI()
        defer {
            hooks.stop()
            checks.stop()
        }
        let delivery = try f.signed(created("warm"), id: "msg_warm")
        var held: [Int] = []
        var holders: [Invocation] = []
        var refused: [LocalRuntimeAPI.Outcome] = []
        let (hook, check) = try withGate(["webhook_deliveries"]) { gate in
            holders = [
                Invocation("onUserCreated", event: try f.signed(created("w1")), environment: env),
                Invocation("onUserCreated", event: try f.signed(created("w2")), environment: env)
            ]
            XCTAssertTrue(
                try eventually {
                    held = try gate.waiting()
                    return held.count == 2
                }, "both holders wait at the gate")
            // Started while the role has no connection left: each is refused at init, then at its invocation.
            let processes = (try bootstrap("onUserCreated", hooks, env), try bootstrap("verifyToken", checks, env))
            refused = [try XCTUnwrap(hooks.invoke(delivery)), try XCTUnwrap(checks.invoke(tokenEvent(Self.httpAPI, sub: "user_warm")))]
            XCTAssertEqual(try gate.waiting(), held, "the holders kept their connections meanwhile")
            return processes
        }
        XCTAssertFalse(refused[0].isError)
        XCTAssertEqual(try JSONValue.parse(refused[0].body)["statusCode"]?.doubleValue, 503, refused[0].body.text)
        XCTAssertTrue(refused[1].isError)
        XCTAssertEqual(try JSONValue.parse(refused[1].body)["errorType"]?.stringValue, "AuthorizerUnavailable", refused[1].body.text)
        for holder in holders { XCTAssertEqual(try holder.answer().status, 200) }
        try waitForExit(of: held)
        XCTAssertTrue(try eventually { try roleConnections() == 0 })

        // The same processes, warm: the next invocation connects and succeeds (Svix's retry, the next request).
        let retried = try XCTUnwrap(hooks.invoke(delivery))
        XCTAssertEqual(try JSONValue.parse(retried.body)["statusCode"]?.doubleValue, 200, retried.body.text)
        let allowed = try XCTUnwrap(checks.invoke(tokenEvent(Self.httpAPI, sub: "user_warm")))
        XCTAssertEqual(try JSONValue.parse(allowed.body)["isAuthorized"]?.boolValue, true, allowed.body.text)
        XCTAssertTrue(hook.poll() == nil && check.poll() == nil, "neither process was replaced")
        XCTAssertEqual(try roleConnections(), 2, "each keeps its connection for the next invocation")
        XCTAssertTrue(hooks.initErrors.isEmpty && checks.initErrors.isEmpty, "a refused connection is no init error")
        for log in [try finish(hooks, hook), try finish(checks, check)] {
            assertRefusalLogged(log)
            XCTAssertEqual(log.components(separatedBy: "database not reachable at init").count, 2, "tried once at init")
        }
        XCTAssertEqual(try deliveryIds().filter { $0 == "msg_warm" }, ["msg_warm"])
    }

    // MARK: Classification

    func testARefusedConnectionIsTransientWhicheverLimitRefusedIt() throws {
        try limitRole(to: 0)
        XCTAssertThrowsError(try PostgresConnection(url: limitedURL, password: rolePassword)) { error in
            guard let error = error as? PostgresError, case .connectionFailed(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("too many connections for role"), message)
            XCTAssertTrue(error.isTransient, "53300 at connection start is retryable")
        }
        // A server at max_connections refuses at the same point, with the same code: libpq gives no SQLSTATE for
        // a failed start, only the text, so every refused start is a failed connection whatever the text says.
        XCTAssertTrue(PostgresError.connectionFailed("connection to server failed: FATAL:  sorry, too many clients already").isTransient)
        XCTAssertTrue(PostgresError.query(sqlState: "53300", message: "too many connections for role").isTransient)
    }
}
