/// Text PostgreSQL cannot hold: `text` refuses U+0000 and `jsonb` refuses the `\u0000` escape (22P05), so
/// a Clerk payload carrying either would fail on every retry. Removed before storing, and counted so that
/// the caller can say so in its log line.
public enum PostgresText {
    /// `json` without raw NUL bytes and without `\u0000` escapes (an escaped backslash followed by
    /// `u0000` is text, and stays); the bytes unchanged when there is nothing to remove.
    public static func removingNUL(fromJSON json: [UInt8]) -> (bytes: [UInt8], removed: Int) {
        guard mayHoldNUL(json) else { return (json, 0) }
        var out: [UInt8] = []
        out.reserveCapacity(json.count)
        var removed = 0
        var i = 0
        while i < json.count {
            let b = json[i]
            if b == 0 {
                removed += 1
                i += 1
            } else if b == UInt8(ascii: "\\") {
                if i + 5 < json.count, json[i + 1] == UInt8(ascii: "u"),
                    json[i + 2] == 0x30, json[i + 3] == 0x30, json[i + 4] == 0x30, json[i + 5] == 0x30
                {
                    removed += 1
                    i += 6
                } else {
                    // Any other escape is copied whole, so that `\\` never pairs with what follows it.
                    out.append(b)
                    if i + 1 < json.count, json[i + 1] != 0 { out.append(json[i + 1]) } else if i + 1 < json.count { removed += 1 }
                    i += 2
                }
            } else {
                out.append(b)
                i += 1
            }
        }
        return (out, removed)
    }

    /// `text` without U+0000 characters, and how many there were.
    public static func removingNUL(_ text: String) -> (text: String, removed: Int) {
        guard text.utf8.contains(0) else { return (text, 0) }
        let kept = text.unicodeScalars.filter { $0.value != 0 }
        return (String(String.UnicodeScalarView(kept)), text.unicodeScalars.count - kept.count)
    }

    private static func mayHoldNUL(_ json: [UInt8]) -> Bool {
        json.withUnsafeBufferPointer { p in
            for i in 0..<p.count {
                if p[i] == 0 { return true }
                if p[i] == UInt8(ascii: "\\"), i + 5 < p.count, p[i + 1] == UInt8(ascii: "u"), p[i + 2] == 0x30 { return true }
            }
            return false
        }
    }
}
