import LambdaRuntime
import LocalHosting
import Secrets
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Secrets read before init and again between invocations, against a fake store: a rotation rebuilds the
/// function, an outage or a value the function refuses keeps the one that works, and no value is logged.
final class RefreshingHandlerTests: XCTestCase {
    let old = "value-old-8f2c", new = "value-new-41d9"
    var logPath = ""
    var logFD: Int32 = -1

    override func setUpWithError() throws {
        logPath = "/tmp/refreshing-handler-\(getpid())-\(Clock.monotonicNs()).log"
        logFD = open(logPath, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(logFD, 0)
    }

    override func tearDown() {
        close(logFD)
        unlink(logPath)
    }

    /// A function that answers the value of `API_KEY` and refuses to start with a malformed one.
    func make(_ store: FakeSecretStore, ttl: Int, _ extra: [String: String] = [:]) throws -> any Handler {
        let env = Environment(["API_KEY_SECRET_ARN": "arn:key#current", "OTHER": "kept"].merging(extra) { $1 })
        let resolver = try SecretResolver(environment: env, ttlSeconds: ttl, store: store)
        return try RefreshingHandler.make(environment: env, resolver: resolver, logger: Logger(level: .debug, fd: logFD)) { env in
            struct Malformed: Error {}
            let key = env["API_KEY"] ?? "unset"
            if key.hasPrefix("malformed") { throw Malformed() }
            return ClosureHandler { _, _ in Array(key.utf8) }
        }
    }

    func answer(_ handler: any Handler) throws -> String {
        let context = Context(
            requestId: "r", deadlineMs: Clock.nowMs() + 1000, invokedFunctionArn: "arn", traceId: "Root=1",
            function: FunctionIdentity(name: "f"), logger: Logger(level: .critical))
        return String(decoding: try handler.handle([], context: context), as: UTF8.self)
    }

    func upkeep(_ handler: any Handler) throws {
        try XCTUnwrap(handler as? any UpkeepHandler, "a function with references is refreshed").betweenInvocations()
    }

    func testARotatedValueIsPickedUpBetweenInvocations() throws {
        let store = FakeSecretStore(["arn:key": #"{"current":"\#(old)"}"#])
        let handler = try make(store, ttl: 0)
        XCTAssertEqual(try answer(handler), old)
        store.values["arn:key"] = #"{"current":"\#(new)"}"#
        XCTAssertEqual(try answer(handler), old, "never swapped during an invocation")
        try upkeep(handler)
        XCTAssertEqual(try answer(handler), new)
        XCTAssertEqual(store.reads, ["arn:key", "arn:key"])
        let log = logText(logPath)
        XCTAssertTrue(log.contains("secrets changed; function rebuilt with the new values") && log.contains("API_KEY"), log)
        XCTAssertFalse(log.contains(old) || log.contains(new), "no value in any log line")
    }

    func testAnOutageKeepsTheValuesThatWorkAndTheNextRefreshRecovers() throws {
        let store = FakeSecretStore(["arn:key": #"{"current":"\#(old)"}"#])
        let handler = try make(store, ttl: 0)
        store.outage = "Secrets Manager answered 503 ServiceUnavailable"
        try upkeep(handler)
        XCTAssertEqual(try answer(handler), old)
        store.outage = nil
        store.values["arn:key"] = #"{"current":"\#(new)"}"#
        try upkeep(handler)
        XCTAssertEqual(try answer(handler), new)
        let log = logText(logPath)
        XCTAssertTrue(
            log.contains("could not refresh secrets; keeping the current values") && log.contains("API_KEY_SECRET_ARN")
                && log.contains("503 ServiceUnavailable"), log)
        XCTAssertFalse(log.contains(old) || log.contains(new), "no value in any log line")
    }

    func testAValueTheFunctionRefusesKeepsTheCurrentFunction() throws {
        let store = FakeSecretStore(["arn:key": #"{"current":"\#(old)"}"#])
        let handler = try make(store, ttl: 0)
        store.values["arn:key"] = #"{"current":"malformed-\#(new)"}"#
        try upkeep(handler)
        XCTAssertEqual(try answer(handler), old)
        store.values["arn:key"] = #"{"current":"\#(new)"}"#
        try upkeep(handler)
        XCTAssertEqual(try answer(handler), new, "the change is seen again once the value is fixed")
        let log = logText(logPath)
        XCTAssertTrue(log.contains("secrets changed but the function cannot use them"), log)
        XCTAssertFalse(log.contains(old) || log.contains(new), "no value in any log line")
    }

    func testNothingIsReadBeforeTheTTLHasPassed() throws {
        let store = FakeSecretStore(["arn:key": #"{"current":"\#(old)"}"#])
        let handler = try make(store, ttl: 3600)
        store.values["arn:key"] = #"{"current":"\#(new)"}"#
        try upkeep(handler)
        XCTAssertEqual(try answer(handler), old)
        XCTAssertEqual(store.reads.count, 1, "read at init only")
    }

    func testAMissingSecretAtInitNamesTheReferenceAndNoValue() throws {
        let store = FakeSecretStore(["arn:key": #"{"other":"\#(old)"}"#])
        XCTAssertThrowsError(try make(store, ttl: 0)) { error in
            XCTAssertEqual("\(error)", "API_KEY_SECRET_ARN: the secret has no field current")
            XCTAssertEqual((error as? LambdaReportableError)?.errorType, "Runtime.SecretError")
        }
    }

    func testWithoutReferencesTheFunctionIsBuiltAsItIsAndNothingIsRead() throws {
        let store = FakeSecretStore([:])
        let env = Environment(["API_KEY": "direct"])
        let resolver = try SecretResolver(environment: env, ttlSeconds: 0, store: store)
        let handler = try RefreshingHandler.make(environment: env, resolver: resolver, logger: Logger(level: .critical)) { env in
            let key = env["API_KEY"] ?? "unset"
            return ClosureHandler { _, _ in Array(key.utf8) }
        }
        XCTAssertNil(handler as? any UpkeepHandler)
        XCTAssertEqual(try answer(handler), "direct")
        XCTAssertEqual(store.reads, [])
    }

    func testOneReadPerSecretHoweverManyOfItsFieldsAreUsed() throws {
        let store = FakeSecretStore(["arn:db": #"{"user":"app","port":5432,"tls":true}"#, "/p": "plain"])
        let env = try SecretResolver(
            environment: Environment([
                "DB_USER_SECRET_ARN": "arn:db#user", "DB_PORT_SECRET_ARN": "arn:db#port", "DB_TLS_SECRET_ARN": "arn:db#tls",
                "P_PARAMETER": "/p"
            ]), ttlSeconds: 0, store: store
        ).resolve()
        XCTAssertEqual([env["DB_USER"], env["DB_PORT"], env["DB_TLS"], env["P"]], ["app", "5432", "true", "plain"])
        XCTAssertEqual(store.reads.sorted(), ["/p", "arn:db"])
    }
}
