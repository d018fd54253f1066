import Foundation
import JSON

/// `StrictJSONDecoder` against Foundation's `JSONDecoder` on the same bytes and types. `cases` are the
/// documented differences found in the input by `StrictCases` (none of the JSON module's code); Foundation's
/// own verdict on the whole document is whether it reads it as a `Tree` (every value read). The rules:
///  1. A document holding a case the strict reader refuses (`StrictCases.refusing`) is refused.
///  2. A document ours refuses that Foundation reads whole holds a refusing case. With canonically
///     equivalent names (Foundation merges them and never reads the values merged away), the rules apply
///     to the document with those names renamed apart instead, and our verdict on both is the same.
///  3. For each type, when ours decodes, Foundation decodes too and the values are equal (`==`; for a
///     `JSONValue` also every string and name byte for byte, as Swift's `==` calls two spellings of one
///     string equal); unless the input has equivalent names or numbers Foundation reads otherwise
///     (`StrictCases.foundationNumbers`: it refuses some, and reads some integers otherwise).
///  4. For each type, when Foundation decodes and ours refuses: a well-formed document has equivalent names
///     or a number Foundation rounded through `Double` (it took a fraction for an integer); a malformed one has a refusing case, or
///     is one Foundation refuses too when it reads every value (it does not look into values a type skips).
/// Both refusing is never a finding: the kinds of error are not compared.
struct FoundationDifferential {
    let bytes: [UInt8]
    let cases: StrictCases
    /// Our reader's verdict (`JSONScanner.validate`).
    let wellFormed: Bool
    /// One decoder for every input (it holds no state between calls).
    static let foundation = JSONDecoder()

    /// With equivalent names: the document with them renamed apart (`StrictCases.inspect`).
    let renamed: [UInt8]?

    init(_ bytes: [UInt8], wellFormed: Bool) {
        self.bytes = bytes
        self.wellFormed = wellFormed
        (cases, renamed) = StrictCases.inspect(bytes)
    }

    /// Every rule, on the document and for each type; then on the renamed document, when there is one.
    func checkAll() {
        checkDocument()
        check(JSONValue.self)
        check(Probe.self)
        check(Tree.self)
        guard let renamed else { return }
        let apart = FoundationDifferential(renamed, wellFormed: (try? JSONScanner.validate(renamed)) != nil)
        // A renamed name collided with another, or left an equivalence: nothing to compare.
        guard apart.renamed == nil, !apart.cases.contains(.duplicateName) else { return }
        if apart.wellFormed != wellFormed { fail(JSONValue.self, "renaming equivalent names apart changed our verdict", "") }
        apart.checkAll()
    }

    /// Foundation's verdict when it reads every value (asked only where a rule needs it).
    var foundationReadsAll: Bool { (try? Self.foundation.decode(Tree.self, from: Data(bytes))) != nil }

    /// Rules 1 and 2, on the document.
    func checkDocument() {
        if wellFormed && !cases.isDisjoint(with: .refusing) {
            fail(JSONValue.self, "the reader accepted a document with a strict case", "")
        }
        if !wellFormed && !cases.contains(.equivalentNames) && cases.isDisjoint(with: .refusing) && foundationReadsAll {
            fail(JSONValue.self, "ours refused a document Foundation reads whole, with no strict case in it", "")
        }
    }

    /// Rules 3 and 4, for `T`.
    func check<T: Codable & Equatable>(_ type: T.Type) {
        let ours = Result { try StrictJSONDecoder().decode(T.self, from: bytes) }
        let theirs = Result { try Self.foundation.decode(T.self, from: Data(bytes)) }
        let numbersDiffer = !cases.isDisjoint(with: .foundationNumbers)
        switch (ours, theirs) {
        case (.success(let a), .success(let b)):
            if cases.contains(.equivalentNames) || numbersDiffer { return }
            if a != b || !sameBytes(a, b) { fail(T.self, "both decoded, different values", "\(a)\n  Foundation: \(b)") }
        case (.success(let a), .failure(let error)):
            if !numbersDiffer { fail(T.self, "ours decoded, Foundation refused", "\(a)\n  Foundation: \(error)") }
        case (.failure(let error), .success(let b)):
            if wellFormed {
                if !cases.contains(.equivalentNames) && !cases.contains(.roundedInDouble) {
                    fail(T.self, "Foundation decoded a well-formed document ours refused", "\(error)\n  Foundation: \(b)")
                }
            } else if cases.isDisjoint(with: .refusing) && !cases.contains(.equivalentNames) && foundationReadsAll {
                fail(T.self, "Foundation decoded a document ours called malformed, with no strict case in it", "\(b)")
            }
        case (.failure, .failure):
            return
        }
    }

    /// For `JSONValue`s: every string and member name the same bytes (`==` is canonical equivalence).
    private func sameBytes<T>(_ a: T, _ b: T) -> Bool {
        guard let a = a as? JSONValue, let b = b as? JSONValue else { return true }
        switch (a, b) {
        case (.string(let x), .string(let y)): return Array(x.utf8) == Array(y.utf8)
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { sameBytes($0, $1) }
        case (.object(let x), .object(let y)):
            let xs = x.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            let ys = y.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            return xs.count == ys.count && zip(xs, ys).allSatisfy { Array($0.key.utf8) == Array($1.key.utf8) && sameBytes($0.value, $1.value) }
        default: return true
        }
    }

    private func fail(_ type: Any.Type, _ rule: String, _ detail: String) -> Never {
        let shown = bytes.count > 600 ? Array(bytes.prefix(600)) : bytes
        // stderr, unbuffered: fatalError does not flush stdout.
        FileHandle.standardError.write(
            Data(
                """
                FuzzJSON differential (\(type)): \(rule)
                  cases found: \(cases), ours well-formed: \(wellFormed), Foundation reads it whole: \(foundationReadsAll)
                  input: \(String(decoding: shown, as: UTF8.self).debugDescription)
                  ours: \(detail)

                """.utf8))
        fatalError("FuzzJSON differential: \(rule)")
    }
}
