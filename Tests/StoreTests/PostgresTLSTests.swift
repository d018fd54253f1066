import LambdaRuntime
import Store
import StoreTestSupport
import XCTest

/// The store connects as the URL says: `sslmode=verify-full` with `sslrootcert` checks the server's
/// certificate against that CA and its name against the host, as a deployment to RDS needs. Against the
/// local cluster serving TLS with a throwaway CA (`with-database.sh` starts it with CLERK_PG_TLS=1).
final class PostgresTLSTests: XCTestCase {
    struct NoTLSCluster: Error, CustomStringConvertible {
        var description: String { "CLERK_PG_TLS_URL is not set: run the tests under scripts/with-database.sh (CLERK_PG_TLS=1)" }
    }

    /// The cluster's verify-full URL; a failure (never a skip) without it.
    func tlsURL() throws -> String {
        guard let url = Environment.process()["CLERK_PG_TLS_URL"] else { throw NoTLSCluster() }
        return url
    }

    func testVerifyFullAgainstTheCAConnectsOverTLS() throws {
        let c = try PostgresConnection(url: try tlsURL())
        let row = try c.query("SELECT ssl::text AS ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first
        XCTAssertEqual(try row?.decode("ssl", as: String.self), "true")
        XCTAssertTrue((try row?.decode("version", as: String.self))?.hasPrefix("TLS") ?? false)
    }

    func testVerifyFullRefusesAServerWhoseNameDoesNotMatch() throws {
        // The certificate names localhost only: verify-full to 127.0.0.1 must fail, verify-ca (no name check) not.
        let url = try tlsURL().replacingAll("@localhost:", with: "@127.0.0.1:")
        XCTAssertThrowsError(try PostgresConnection(url: url)) { error in
            XCTAssertTrue("\(error)".contains("does not match host name"), "\(error)")
        }
        XCTAssertNoThrow(try PostgresConnection(url: url.replacingAll("sslmode=verify-full", with: "sslmode=verify-ca")))
    }

    func testVerifyFullRefusesACertificateFromAnotherCA() throws {
        // Any other CA: the system's bundle, which never signed the throwaway certificate.
        let url = try tlsURL()
        guard let start = url.range(of: "sslrootcert=") else { return XCTFail(url) }
        let other = String(url[..<start.upperBound]) + "/etc/ssl/certs/ca-certificates.crt"
        XCTAssertThrowsError(try PostgresConnection(url: other)) { error in
            XCTAssertTrue("\(error)".contains("certificate verify failed"), "\(error)")
        }
    }

    func testAPasswordGivenApartIsUsedAndNeverBreaksTheURL() throws {
        // The local cluster trusts loopback, so only the plumbing shows: a password with URL-special
        // characters, given apart from the URL (DATABASE_PASSWORD), connects as the URL says.
        let c = try PostgresConnection(url: try tlsURL(), password: "p@ss word/&?=#")
        XCTAssertEqual(try c.query("SELECT 1 AS one").first?.decode("one", as: Int.self), 1)
    }
}
