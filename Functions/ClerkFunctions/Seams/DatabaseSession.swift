import JSON
import LambdaRuntime
import Store

/// The function's one PostgreSQL connection, opened at init and kept for warm invocations.
public final class DatabaseSession: @unchecked Sendable {
    /// The connection (reconnects by itself when the server dropped it).
    public let connection: PostgresConnection

    /// Reads `DATABASE_URL` and tries to connect now; a failure is logged and retried on first use.
    public init(environment: Environment, logger: Logger) throws {
        let config = try DatabaseConfig(environment: environment)
        connection = try PostgresConnection(
            url: config.url, password: config.password,
            connectTimeoutSeconds: config.connectTimeoutSeconds, lazily: true)
        do {
            try connection.connect()
        } catch {
            logger.warn("database not reachable at init; will retry on first use", ["errorClass": .string(error.errorClass)])
        }
    }
}
