/// A strictly read ISO-8601 date, or date and time with an offset (PostgreSQL would read a time without one in
/// its session's zone, which an operator cannot see).
struct ISO8601Time {
    /// The time as PostgreSQL reads it unambiguously.
    let text: String

    init?(_ b: [UInt8]) {
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= b.count, b[range].allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
            return b[range].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        func at(_ i: Int, _ c: Character) -> Bool { i < b.count && Character(UnicodeScalar(b[i])) == c }
        guard let year = number(0..<4), at(4, "-"), let month = number(5..<7), at(7, "-"), let day = number(8..<10),
            (1...12).contains(month), day >= 1, day <= Self.days(month, year)
        else { return nil }
        let date = String(decoding: b[0..<10], as: UTF8.self)
        guard b.count > 10 else {
            text = date + "T00:00:00Z"
            return
        }
        guard at(10, "T") || at(10, "t"), let hour = number(11..<13), at(13, ":"), let minute = number(14..<16),
            hour <= 23, minute <= 59
        else { return nil }
        var i = 16
        if at(i, ":") {
            guard let second = number((i + 1)..<(i + 3)), second <= 60 else { return nil }
            i += 3
            if at(i, ".") {
                let digits = b[(i + 1)...].prefix { (0x30...0x39).contains($0) }.count
                guard (1...9).contains(digits) else { return nil }
                i += 1 + digits
            }
        }
        guard Self.offset(b, from: i) else { return nil }
        text = String(decoding: b, as: UTF8.self)
    }

    /// `Z`, or `±HH:MM` up to 14 hours, and nothing after it.
    private static func offset(_ b: [UInt8], from i: Int) -> Bool {
        guard i < b.count else { return false }
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") { return i + 1 == b.count }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), b.count == i + 6, b[i + 3] == UInt8(ascii: ":"),
            b[(i + 1)..<(i + 3)].allSatisfy({ (0x30...0x39).contains($0) }), b[(i + 4)..<(i + 6)].allSatisfy({ (0x30...0x39).contains($0) })
        else { return false }
        let hours = Int(b[i + 1] - 0x30) * 10 + Int(b[i + 2] - 0x30)
        let minutes = Int(b[i + 4] - 0x30) * 10 + Int(b[i + 5] - 0x30)
        return hours <= 14 && minutes <= 59
    }

    private static func days(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
