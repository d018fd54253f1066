/// One versioned schema change. Versions are applied in order, each once, each in its own transaction.
public struct Migration: Sendable {
    /// Increasing version number.
    public let version: Int
    /// A short name for people.
    public let name: String
    /// The SQL (may hold several statements).
    public let sql: String

    /// Describes a migration.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// Applies migrations, safe to run concurrently from several processes (an advisory lock serialises them).
public enum Migrator {
    /// Lock key shared by every migrating process of this project ("clerkfn" in ASCII).
    static let lockKey: Int64 = 0x636C_6572_6B66_6E

    /// Applies the migrations not yet recorded in `schema_migrations`; returns the versions it applied.
    @discardableResult
    public static func migrate(_ connection: PostgresConnection, migrations: [Migration] = Schema.migrations)
        throws -> [Int]
    {
        try connection.query("SELECT pg_advisory_lock($1)", [lockKey])
        defer { _ = try? connection.query("SELECT pg_advisory_unlock($1)", [lockKey]) }
        try connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let done = Set(try connection.query("SELECT version FROM schema_migrations").map { try $0.decode("version", as: Int.self) })
        var applied: [Int] = []
        for m in migrations.sorted(by: { $0.version < $1.version }) where !done.contains(m.version) {
            try connection.transaction { c in
                try c.executeScript(m.sql)
                try c.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name])
            }
            applied.append(m.version)
        }
        return applied
    }

    /// The versions recorded as applied.
    public static func appliedVersions(_ connection: PostgresConnection) throws -> [Int] {
        try connection.query("SELECT version FROM schema_migrations ORDER BY version").map { try $0.decode("version", as: Int.self) }
    }
}
