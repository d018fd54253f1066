/// Scalar conversions for the decoder's containers, with Foundation's `JSONDecoder` error kinds: null is
/// `valueNotFound`, another kind `typeMismatch`, a number the type cannot hold exactly `dataCorrupted`.
/// `path` is only built when an error is thrown (it is the hot path's one allocation otherwise).
extension JSONNode {
    func bool(_ path: @autoclosure () -> [any CodingKey]) throws -> Bool {
        if case .bool(let b) = self { return b }
        throw mismatch(Bool.self, path())
    }

    func string(_ path: @autoclosure () -> [any CodingKey]) throws -> String {
        if case .string(let s) = self { return s }
        throw mismatch(String.self, path())
    }

    func double(_ path: @autoclosure () -> [any CodingKey]) throws -> Double {
        guard case .number(let text) = self else { throw mismatch(Double.self, path()) }
        guard let d = Double(text), d.isFinite else { throw doesNotFit(Double.self, path()) }
        return d
    }

    func float(_ path: @autoclosure () -> [any CodingKey]) throws -> Float {
        guard case .number(let text) = self else { throw mismatch(Float.self, path()) }
        // In Double's range (the scanner checked) is not in Float's: 1e300 does not fit.
        guard let f = Float(text), f.isFinite else { throw doesNotFit(Float.self, path()) }
        return f
    }

    func integer<I: FixedWidthInteger>(_ type: I.Type, _ path: @autoclosure () -> [any CodingKey]) throws -> I {
        guard case .number(let text) = self else { throw mismatch(I.self, path()) }
        guard let value: I = JSONNode.exactInteger(text) else { throw doesNotFit(I.self, path()) }
        return value
    }

    /// The integer a number literal spells, when `I` holds it exactly: `1e3` and `10.0` are integers,
    /// `1.5` is not, `300` is no `UInt8`, `-1` no `UInt`. No conversion through `Double` (which would round
    /// 9007199254740993 and trap on out-of-range values).
    static func exactInteger<I: FixedWidthInteger>(_ text: String) -> I? {
        if let plain = I(text) { return plain }
        var negative = false
        var digits: [UInt8] = []
        var fraction = 0
        var exponent = 0
        var exponentNegative = false
        var state = 0  // 0 integer part, 1 fraction, 2 exponent
        for (k, c) in text.utf8.enumerated() {
            switch c {
            case UInt8(ascii: "-") where k == 0: negative = true
            case UInt8(ascii: "-") where state == 2: exponentNegative = true
            case UInt8(ascii: "+") where state == 2: break
            case UInt8(ascii: "."): state = 1
            case UInt8(ascii: "e"), UInt8(ascii: "E"): state = 2
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if state == 2 {
                    // Saturates: any exponent this large is out of every integer type's reach anyway.
                    exponent = min(exponent * 10 + Int(c - 0x30), 1_000_000)
                } else {
                    digits.append(c)
                    if state == 1 { fraction += 1 }
                }
            default: return nil
            }
        }
        // Significant digits only (slices: a literal may be thousands of zeros long).
        guard let first = digits.firstIndex(where: { $0 != UInt8(ascii: "0") }),
            let last = digits.lastIndex(where: { $0 != UInt8(ascii: "0") })
        else { return 0 }
        // significant × 10^shift; a negative shift leaves a fraction.
        let shift = (exponentNegative ? -exponent : exponent) - fraction + (digits.count - 1 - last)
        let significant = digits[first...last]
        guard shift >= 0, significant.count + shift <= 40 else { return nil }
        var spelled: [UInt8] = negative ? [UInt8(ascii: "-")] : []
        spelled.append(contentsOf: significant)
        spelled.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: shift))
        return I(String(decoding: spelled, as: UTF8.self))
    }

    func mismatch(_ type: Any.Type, _ path: [any CodingKey]) -> DecodingError {
        if isNull {
            return .valueNotFound(type, .init(codingPath: path, debugDescription: "Cannot get value of type \(type) -- found null value instead"))
        }
        return .typeMismatch(type, .init(codingPath: path, debugDescription: "Expected to decode \(type) but found \(kindDescription) instead."))
    }

    private func doesNotFit(_ type: Any.Type, _ path: [any CodingKey]) -> DecodingError {
        .dataCorrupted(.init(codingPath: path, debugDescription: "number does not fit in \(type)"))
    }
}
