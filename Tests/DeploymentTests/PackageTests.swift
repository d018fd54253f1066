import ClerkKit
import JSON
import LambdaRuntime
import LocalHosting
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The deployment zip is self-contained: unpacked into an empty root and run under chroot (nothing but
/// the zip's files exist there), the shipped bootstrap answers as Lambda would run it.
final class PackageTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        guard let zip = Environment.process()["CLERK_LAMBDA_ZIP"], FileIO.exists(zip) else {
            // Thrown, not skipped: the test fails, with the reason, and does not run on.
            throw InitError(
                errorType: "MissingPackage",
                errorMessage: "CLERK_LAMBDA_ZIP is not set: `make test` builds the package (scripts/package.sh) and sets it")
        }
        var template = Array("/tmp/clerk-chroot-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw InitError(errorType: "Setup", errorMessage: "mkdtemp failed") }
        root = String(cString: made)
        mkdir(root + "/var", 0o755)
        mkdir(root + "/var/task", 0o755)
        let unzip = try Subprocess.run(path: "/usr/bin/unzip", arguments: ["-q", zip, "-d", root + "/var/task"], environment: childEnvironment([:]))
        XCTAssertEqual(unzip.exit.code, 0, unzip.stderr.text)
    }

    override func tearDown() {
        if !root.isEmpty { _ = try? Subprocess.run(path: "/bin/rm", arguments: ["-rf", root], environment: [:]) }
    }

    /// The bootstrap under chroot (or, without root, under a user namespace that may chroot).
    func start(_ api: LocalRuntimeAPI, _ env: [String: String]) throws -> Subprocess {
        let (path, args): (String, [String]) =
            getuid() == 0
            ? ("/usr/sbin/chroot", [root, "/var/task/bootstrap"])
            : ("/usr/bin/unshare", ["--map-root-user", "/usr/sbin/chroot", root, "/var/task/bootstrap"])
        var all = ["AWS_LAMBDA_RUNTIME_API": api.endpoint, "LAMBDA_TASK_ROOT": "/var/task", "AWS_LAMBDA_LOG_LEVEL": "warn"]
        for (k, v) in env { all[k] = v }
        return try Subprocess(path: path, arguments: args, environment: all)
    }

    var tcpDatabaseURL: String {
        get throws {
            if let url = Environment.process()["CLERK_PG_TCP_URL"] { return url }
            let url = TestDatabase.url
            guard url.contains("@127.0.0.1") || url.contains("@localhost") else {
                throw InitError(errorType: "Test", errorMessage: "the chroot test needs PostgreSQL on a TCP port (CLERK_PG_TCP_URL)")
            }
            return url
        }
    }

    func testNothingOutsideTheZipIsInTheRoot() throws {
        let listing = try Subprocess.run(path: "/usr/bin/find", arguments: [root, "-maxdepth", "3"], environment: [:]).stdout.text
        let entries = listing.split(separator: "\n").map { String($0.dropFirst(root.count)) }.filter { !$0.isEmpty }
        XCTAssertTrue(entries.allSatisfy { $0.hasPrefix("/var") }, "\(entries)")
        XCTAssertTrue(entries.contains("/var/task/bootstrap"))
        XCTAssertTrue(entries.contains("/var/task/lib"))
    }

    /// What keeps the shipped binary small (README, "Size and memory"): none of FoundationEssentials, Swift's
    /// string-processing and regex libraries, or the shared libstdc++ is linked. A stripped binary still
    /// names every Swift module it links in its type metadata, and every shared library in its dynamic strings.
    func testTheShippedBinaryLinksNeitherFoundationNorStringProcessing() throws {
        let binary = try FileIO.read(root + "/var/task/bootstrap")
        func has(_ text: String) -> Bool {
            let needle = Array(text.utf8)
            guard let first = needle.first, binary.count >= needle.count else { return false }
            var i = 0
            while i <= binary.count - needle.count {
                if binary[i] == first, binary[i..<(i + needle.count)].elementsEqual(needle) { return true }
                i += 1
            }
            return false
        }
        XCTAssertTrue(has("13LambdaRuntime"), "the check reads module names from the metadata")
        XCTAssertFalse(has("20FoundationEssentials"), "FoundationEssentials is linked into bootstrap")
        XCTAssertFalse(has("17_StringProcessing"), "_StringProcessing is linked into bootstrap")
        XCTAssertFalse(has("libstdc++.so"), "bootstrap loads the shared libstdc++")
    }

    func testHealthAnswersFromTheChroot() throws {
        let api = try LocalRuntimeAPI()
        let p = try start(api, ["_HANDLER": "health", "DATABASE_URL": try tcpDatabaseURL])
        defer {
            p.kill(SIGKILL)
            _ = p.wait()
        }
        let outcome = try XCTUnwrap(api.invoke(BuiltProducts.event("health.get.json"), timeoutMs: 20_000), "no answer from the chroot")
        XCTAssertFalse(outcome.isError, outcome.body.text)
        let response = try JSONValue.parse(outcome.body)
        XCTAssertEqual(response["statusCode"]?.doubleValue, 200, outcome.body.text)
        XCTAssertTrue(response["body"]?.stringValue?.contains("\"database\":\"ok\"") ?? false)
    }

    func testASignedUserCreatedIsStoredFromTheChroot() throws {
        let f = try WebhookFixture()
        let api = try LocalRuntimeAPI()
        let p = try start(api, ["_HANDLER": "onUserCreated", "DATABASE_URL": try tcpDatabaseURL, "PROD_CLERK_WEBHOOK_SECRET": f.prodSecret])
        defer {
            p.kill(SIGKILL)
            _ = p.wait()
        }
        let outcome = try XCTUnwrap(api.invoke(f.signed(f.payload("user.created.json")), timeoutMs: 20_000))
        let response = try JSONValue.parse(outcome.body)
        XCTAssertEqual(response["statusCode"]?.doubleValue, 200, outcome.body.text)
        XCTAssertEqual(try f.user("user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF")?["email"], "ada@example.com")
    }

    func testTheDlopenedLibcurlLoadsInTheChroot() throws {
        // verifyToken with a JWKS URL: the first token makes the bootstrap dlopen libcurl from /var/task/lib.
        let tokens = try TokenFixture()
        let api = try LocalRuntimeAPI()
        let p = try start(
            api,
            [
                "_HANDLER": "verifyToken", "DATABASE_URL": try tcpDatabaseURL, "CLERK_JWKS_URL": tokens.jwksURL,
                "CLERK_ISSUER": tokens.issuer
            ])
        defer {
            p.kill(SIGKILL)
            _ = p.wait()
        }
        let outcome = try XCTUnwrap(api.invoke(Array(#"{"token":"\#(try tokens.token(sub: "user_chroot"))"}"#.utf8), timeoutMs: 20_000))
        XCTAssertEqual(try JSONValue.parse(outcome.body)["valid"]?.boolValue, true, outcome.body.text)
        XCTAssertEqual(tokens.requests, 1)
    }
}
