import JSON
import LambdaRuntime
import Store

/// `health` (`GET /health`): 200 `{"status":"ok","database":"ok"}` when PostgreSQL answers, else 503 with
/// the SQLSTATE class of the failure. Any event shape is accepted: load balancers and schedulers call it too.
public struct HealthFunction: Handler {
    private let database: any DatabaseProbe

    /// Opens the database connection lazily-but-early: a database that is down at init is reported by
    /// the first health check, not by an init failure (the function itself is healthy).
    public init(_ ctx: InitContext) throws {
        self.init(database: PostgresProbe(database: try DatabaseSession(environment: ctx.environment, logger: ctx.logger)))
    }

    /// Checks `database` (a stub in the unit tier).
    init(database: any DatabaseProbe) { self.database = database }

    private struct Body: Encodable, Sendable {
        var status: String
        var database: String
        var errorClass: String?
    }

    public func handle(_ event: [UInt8], context: Context) throws -> [UInt8] {
        do {
            try database.ping()
            return APIResponse(JSONAnswer(200, Body(status: "ok", database: "ok"))).encoded()
        } catch {
            context.logger.warn("health check failed", ["errorClass": .string(error.errorClass), "sqlState": .string(error.sqlState)])
            return APIResponse(JSONAnswer(503, Body(status: "unavailable", database: "error", errorClass: error.errorClass))).encoded()
        }
    }
}
