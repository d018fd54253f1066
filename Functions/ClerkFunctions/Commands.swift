import LambdaRuntime
import Store

/// The executable's commands beyond `invoke` and `list`.
public enum Commands {
    /// All of them.
    public static let all: [Command] = [migrate]

    /// The `invoke` flags that rewrite events.
    public static let transforms: [EventTransform] = []

    /// `migrate`: applies pending schema migrations to `DATABASE_URL`.
    public static let migrate = Command(
        name: "migrate", usage: "", summary: "apply pending schema migrations to DATABASE_URL"
    ) { _, env in
        let config = try DatabaseConfig(environment: env)
        let connection = try PostgresConnection(url: config.url, connectTimeoutSeconds: config.connectTimeoutSeconds)
        let applied = try Migrator.migrate(connection)
        let all = try Migrator.appliedVersions(connection)
        print(applied.isEmpty
              ? "schema up to date (version \(all.last ?? 0))"
              : "applied migrations \(applied.map(String.init).joined(separator: ", ")); schema at version \(all.last ?? 0)")
        return 0
    }
}
