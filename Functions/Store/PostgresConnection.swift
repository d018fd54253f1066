import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

/// One libpq connection, opened once and reused across warm invocations.
///
/// Parameterized statements only (`$1`, `$2`, …, sent separately from the SQL text). When the server
/// closed the connection (restart, idle timeout, failover), the next statement outside a transaction
/// reconnects and runs once more; inside a transaction the failure surfaces as `connectionLost`, because
/// nothing that came before it in the transaction survived.
public final class PostgresConnection {
    private var conn: OpaquePointer?
    private let conninfo: String
    private let password: String?
    private let connectTimeoutSeconds: Int
    /// Whether a transaction opened by `transaction(_:)` is in progress.
    public private(set) var inTransaction = false

    /// Prepares a connection to `url` (a `postgresql://` URI or a `key=value` string) and opens it
    /// unless `lazily` is set; a lazy connection opens on first use. `password`, when given, overrides one in
    /// the URL. TLS is libpq's: `sslmode` (`verify-full` checks the server's certificate and name) and
    /// `sslrootcert` (the CA bundle, e.g. RDS's) in the URL are honoured as written.
    public init(url: String, password: String? = nil, connectTimeoutSeconds: Int = 5, lazily: Bool = false) throws(PostgresError) {
        conninfo = url
        self.password = password
        self.connectTimeoutSeconds = connectTimeoutSeconds
        if !lazily { try connect() }
    }

    deinit { if let conn { PQfinish(conn) } }

    /// Whether the connection is open as far as libpq knows (a server-side close shows only on next use).
    public var isOpen: Bool { conn.map { PQstatus($0) == CONNECTION_OK } ?? false }

    /// The server process id serving this connection (tests use it to kill the backend).
    public var backendPID: Int32 { conn.map { PQbackendPID($0) } ?? 0 }

    /// Opens (or reopens) the connection.
    public func connect() throws(PostgresError) {
        if let conn {
            PQfinish(conn)
            self.conn = nil
        }
        // Defaults first: what the URL says overrides them (expand_dbname applies in order).
        var keys = ["connect_timeout", "application_name", "dbname"]
        var values = [String(connectTimeoutSeconds), "clerk-functions", conninfo]
        if let password {
            keys.append("password")
            values.append(password)
        }
        let c: OpaquePointer? = withCStrings(keys) { k in withCStrings(values) { v in PQconnectdbParams(k, v, 1) } }
        guard let c, PQstatus(c) == CONNECTION_OK else {
            let message = c.map { Self.errorText($0) } ?? "out of memory"
            if let c { PQfinish(c) }
            throw .connectionFailed(message)
        }
        conn = c
        // Server notices ("relation already exists, skipping") would go to stderr as free text, breaking
        // the one-JSON-object-per-line log; nothing in them needs action.
        PQsetNoticeProcessor(c, { _, _ in }, nil)
        // Timestamps in and out as UTC; statements never wait forever on a lock.
        _ = try runOnce("SET TIME ZONE 'UTC'", [])
    }

    /// One round trip that needs nothing but a working session (reconnecting first if it was lost): `health`'s check.
    public func ping() throws(PostgresError) {
        try query("SELECT 1")
    }

    /// Runs one statement with `parameters` bound to `$1…$n` (nil binds NULL) and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws(PostgresError) -> PostgresRows {
        if conn == nil || !isOpen {
            guard !inTransaction else { throw .connectionLost("connection closed inside a transaction") }
            try connect()
        }
        do {
            return try runOnce(sql, parameters)
        } catch .connectionLost(let message) where !inTransaction {
            // The server dropped us between invocations: reconnect and try once more.
            _ = message
            try connect()
            return try runOnce(sql, parameters)
        }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try query("BEGIN")
        inTransaction = true
        do {
            let value = try body(self)
            inTransaction = false
            try query("COMMIT")
            return value
        } catch {
            inTransaction = false
            if isOpen { _ = try? runOnce("ROLLBACK", []) }
            throw error
        }
    }

    /// Runs several `;`-separated statements with no parameters (migrations); not for user input.
    public func executeScript(_ sql: String) throws(PostgresError) {
        if conn == nil || !isOpen { try connect() }
        guard let r = PQexec(conn, sql) else { throw .connectionLost(Self.errorText(conn!)) }
        defer { PQclear(r) }
        try check(r)
    }

    private func runOnce(_ sql: String, _ parameters: [(any PostgresEncodable)?]) throws(PostgresError) -> PostgresRows {
        let texts = parameters.map { $0?.postgresText }
        // libpq takes C strings: a NUL would silently cut the value short. PostgreSQL's text cannot hold one
        // either, so it is the data error the server would give (22021), never a truncated value.
        if let n = texts.firstIndex(where: { $0?.utf8.contains(0) == true }) {
            throw .query(sqlState: "22021", message: "parameter $\(n + 1) contains a NUL character, which PostgreSQL text cannot hold")
        }
        let result: OpaquePointer? = withOptionalCStrings(texts) { values in
            PQexecParams(conn, sql, Int32(texts.count), nil, values, nil, nil, 0)
        }
        guard let result else { throw .connectionLost(Self.errorText(conn!)) }
        do {
            try check(result)
        } catch {
            PQclear(result)
            throw error
        }
        return PostgresRows(result)
    }

    private func check(_ result: OpaquePointer) throws(PostgresError) {
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return
        default:
            if PQstatus(conn) != CONNECTION_OK { throw .connectionLost(Self.errorText(conn!)) }
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? "XX000"
            let message =
                PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
                ?? String(cString: PQresultErrorMessage(result))
            if state.hasPrefix("08") || state == "57P01" { throw .connectionLost(message) }
            throw .query(sqlState: state, message: message)
        }
    }

    private static func errorText(_ conn: OpaquePointer) -> String {
        String(cString: PQerrorMessage(conn)).split(separator: "\n").first.map(String.init) ?? "unknown error"
    }
}

private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { UnsafePointer(strdup($0)) } + [nil]
    defer { for copy in copies { free(UnsafeMutablePointer(mutating: copy)) } }
    return copies.withUnsafeBufferPointer { body($0.baseAddress!) }
}

private func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    let copies: [UnsafePointer<CChar>?] = strings.map { s in s.map { UnsafePointer(strdup($0)!) } }
    defer { for case let p? in copies { free(UnsafeMutablePointer(mutating: p)) } }
    return copies.withUnsafeBufferPointer { body($0.baseAddress) }
}
