/// A PostgreSQL failure, typed so callers can tell "retry later" from "our bug" from "bad data".
public enum PostgresError: Error, CustomStringConvertible, Sendable {
    /// The server could not be reached or refused the connection (SQLSTATE class 08).
    case connectionFailed(String)
    /// The connection died during a statement; the statement's effect is unknown (class 08).
    case connectionLost(String)
    /// The server rejected a statement.
    case query(sqlState: String, message: String)
    /// A column could not be read as the requested type.
    case decoding(column: String, expected: String)

    /// The five-character SQLSTATE (`08006` for lost connections).
    public var sqlState: String {
        switch self {
        case .connectionFailed: "08001"
        case .connectionLost: "08006"
        case .query(let state, _): state
        case .decoding: "22000"
        }
    }

    /// The SQLSTATE class (its first two characters): `08` connection, `23` integrity, `40` rollback, ...
    public var errorClass: String { String(sqlState.prefix(2)) }

    /// Whether trying again later may succeed (connection trouble, serialization failure, deadlock,
    /// server shutting down or out of resources).
    public var isTransient: Bool {
        switch errorClass {
        case "08", "40", "53", "57": true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .connectionFailed(let m): "cannot connect to PostgreSQL: \(m)"
        case .connectionLost(let m): "PostgreSQL connection lost: \(m)"
        case .query(let s, let m): "PostgreSQL error \(s): \(m)"
        case .decoding(let c, let t): "column \(c) is not a \(t)"
        }
    }
}
