import CLibPQ

/// The rows of one statement's result. Owns the libpq result and frees it when released.
public final class PostgresRows: Sequence {
    private let result: OpaquePointer
    /// The number of rows.
    public let count: Int
    /// The number of rows a command changed (`UPDATE`, `INSERT`, `DELETE`).
    public let affected: Int
    private let columns: [String: Int32]

    init(_ result: OpaquePointer) {
        self.result = result
        count = Int(PQntuples(result))
        affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        var columns: [String: Int32] = [:]
        for i in 0..<PQnfields(result) { columns[String(cString: PQfname(result, i))] = i }
        self.columns = columns
    }

    deinit { PQclear(result) }

    /// The row at `index`.
    public subscript(index: Int) -> PostgresRow { PostgresRow(rows: self, index: Int32(index)) }

    /// The first row, if any.
    public var first: PostgresRow? { count > 0 ? self[0] : nil }

    public func makeIterator() -> AnyIterator<PostgresRow> {
        var i = 0
        return AnyIterator { [self] in
            guard i < count else { return nil }
            defer { i += 1 }
            return self[i]
        }
    }

    fileprivate func text(_ row: Int32, _ column: String) throws(PostgresError) -> String? {
        guard let c = columns[column] else { throw .decoding(column: column, expected: "column of this result") }
        if PQgetisnull(result, row, c) == 1 { return nil }
        return String(cString: PQgetvalue(result, row, c))
    }
}

/// One row; columns are read by name into typed values.
public struct PostgresRow {
    fileprivate let rows: PostgresRows
    fileprivate let index: Int32

    /// The column as `T`; throws when it is NULL or not a `T`.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws(PostgresError) -> T {
        guard let text = try rows.text(index, column) else { throw .decoding(column: column, expected: "non-null \(T.self)") }
        guard let value = T(postgresText: text) else { throw .decoding(column: column, expected: "\(T.self)") }
        return value
    }

    /// The column as `T`, or nil when NULL; throws when it is not a `T`.
    public func decodeIfPresent<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws(PostgresError) -> T? {
        guard let text = try rows.text(index, column) else { return nil }
        guard let value = T(postgresText: text) else { throw .decoding(column: column, expected: "\(T.self)") }
        return value
    }
}
