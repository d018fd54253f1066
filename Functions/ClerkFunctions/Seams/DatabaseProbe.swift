import Store

/// Whether the database answers, for `health` (a round trip on the function's connection; a stub in the unit tier).
protocol DatabaseProbe: Sendable {
    /// Throws the failure when the database does not answer.
    func ping() throws(PostgresError)
}

/// PostgreSQL, over the function's one connection.
struct PostgresProbe: DatabaseProbe {
    let database: DatabaseSession

    func ping() throws(PostgresError) { try database.connection.ping() }
}
