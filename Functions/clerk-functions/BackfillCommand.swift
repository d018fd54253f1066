import ArgumentParser
import ClerkFunctions
import ClerkKit
import LambdaRuntime
import LocalHosting
import Store

#if canImport(Glibc)
    import Glibc
#endif

/// `backfill`: users, organizations and memberships from Clerk's Backend API into PostgreSQL.
struct BackfillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract:
            "Copy Clerk's users, organizations and memberships into DATABASE_URL with the webhooks' rules; a second run resumes or changes nothing.",
        discussion: """
            Prints progress on a terminal and ends with one JSON summary line. An item that is not the documented \
            shape, or that PostgreSQL refuses as data, is set aside and the run goes on: counted as "skipped", \
            logged by id and reason, and kept in queue_rejects (source 'backfill') for a person to look at.
            """)

    @Option(help: "production or development (default: CLERK_ENVIRONMENT, else production).")
    var environment: String?

    @Option(help: "users, organizations or billing (default: all; billing only when the instance has it).")
    var only: String?

    @Flag(name: .customLong("dry-run"), help: "Do the work in transactions that are rolled back: exact counts, nothing kept.")
    var dryRun = false

    func validate() throws {
        if let environment, ClerkEnvironment(rawValue: environment) == nil {
            throw ValidationError("--environment is production or development")
        }
        if let only, Backfill.Kind(rawValue: only) == nil { throw ValidationError("--only is users, organizations or billing") }
    }

    func run() throws {
        let env = CLI.environment
        let name = try environment ?? Settings(env).clerkEnvironment().rawValue
        let config = try ClerkAPIConfig(environment: env)
        guard let api = try config.client(for: name) else {
            throw ValidationError(
                "no secret key for \(name): set CLERK_SECRET_KEY (or \((ClerkEnvironment(rawValue: name) ?? .production).variablePrefix)CLERK_SECRET_KEY)"
            )
        }
        let database = try DatabaseConfig(environment: env)
        let connection = try PostgresConnection(url: database.url, connectTimeoutSeconds: database.connectTimeoutSeconds)
        try Migrator.migrate(connection)
        let terminal = isatty(2) == 1
        let summary = try Backfill(api: api, connection: connection, environment: name, logger: Logger(environment: env))
            .run(
                only: only.flatMap(Backfill.Kind.init(rawValue:)).map { [$0] } ?? Set(Backfill.Kind.allCases),
                dryRun: dryRun, deadlineMs: Int64.max / 4
            ) { line in
                if terminal { FileIO.write(fd: 2, "\r\u{1B}[K" + line) }
            }
        if terminal { FileIO.write(fd: 2, "\n") }
        print(summary.json)
    }
}
