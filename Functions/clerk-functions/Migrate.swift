import ArgumentParser
import ClerkFunctions
import Store

/// `migrate`: applies pending schema migrations to `DATABASE_URL`.
struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending schema migrations to DATABASE_URL.")

    func run() throws {
        let config = try DatabaseConfig(environment: CLI.environment)
        let connection = try PostgresConnection(url: config.url, connectTimeoutSeconds: config.connectTimeoutSeconds)
        let applied = try Migrator.migrate(connection)
        let all = try Migrator.appliedVersions(connection)
        print(
            applied.isEmpty
                ? "schema up to date (version \(all.last ?? 0))"
                : "applied migrations \(applied.map(String.init).joined(separator: ", ")); schema at version \(all.last ?? 0)")
    }
}
