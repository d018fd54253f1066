/// A member name that equals and hashes as its UTF-8 bytes. Swift's `String` equality is canonical
/// equivalence: "café" with U+00E9 equals "cafe" + U+0301, and "K" the KELVIN SIGN, so a `String`-keyed set
/// or dictionary took two names of one object (RFC 8259 compares names by code units, and so do
/// PostgreSQL's jsonb, JavaScript and Clerk) for one: a user's own metadata read as a duplicate name and
/// stopped their sync. Every name the JSON module compares goes through this type or `String.sameBytes`.
struct JSONName: Hashable, Sendable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (a: JSONName, b: JSONName) -> Bool { a.text.sameBytes(as: b.text) }

    func hash(into hasher: inout Hasher) {
        let hashed: Void? = text.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if hashed == nil {
            for byte in text.utf8 { hasher.combine(byte) }
        }
        // The length ends the name, as `String`'s own hash ends it with a terminator.
        hasher.combine(text.utf8.count)
    }
}

extension String {
    /// True when both strings are the same UTF-8 bytes (`==` is canonical equivalence, which is not what
    /// JSON names mean). Most names differ in length, which a native string knows without reading them.
    @inline(__always)
    func sameBytes(as other: String) -> Bool {
        let a = utf8
        let b = other.utf8
        guard a.count == b.count else { return false }
        let contiguous: Bool?? = a.withContiguousStorageIfAvailable { x in
            b.withContiguousStorageIfAvailable { y in
                for k in 0..<x.count where x[k] != y[k] { return false }
                return true
            }
        }
        if case .some(.some(let equal)) = contiguous { return equal }
        return a.elementsEqual(b)
    }
}
