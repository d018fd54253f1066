import FuzzSupport
import JSON

/// libFuzzer entry: the JSON scanner (whole-document validation and the member walk tokens use), the strict
/// reader built on it, the Codable decoder and encoder, and the decoder against Foundation's
/// (`FoundationDifferential`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let valid = (try? JSONScanner.validate(bytes)) != nil
    var members = 0
    let scanned = (try? JSONScanner.scan(bytes, descend: ["o", "data"]) { _, _ in members += 1 }) != nil
    // A document the member walk accepts is an object the validator accepts too.
    if scanned && !valid { fatalError("scan accepted what validate refused") }
    // The strict reader builds exactly what the validator accepts.
    let read = try? JSONValue.parseStrict(bytes)
    if (read != nil) != valid { fatalError("parseStrict and validate disagree") }
    // Every element the array splitter cuts out is itself one valid document.
    if let ranges = try? JSONScanner.arrayElementRanges(bytes) {
        for r in ranges where (try? JSONScanner.validate(Array(bytes[r]))) == nil { fatalError("an element range is not a value") }
    }
    // Read by structure, a valid array has exactly the strict splitter's elements, and a valid object the
    // member walk's members; whatever the input, what it finds lies in order within it.
    let structural = try? JSONScanner.elementRanges(byStructureOf: bytes)
    if let strict = try? JSONScanner.arrayElementRanges(bytes), structural != strict { fatalError("structure and strict split disagree") }
    let named = try? JSONScanner.members(byStructureOf: bytes)
    var topMembers = 0
    if (try? JSONScanner.scan(bytes) { _, _ in topMembers += 1 }) != nil, named?.count != topMembers {
        fatalError("structure and member walk disagree")
    }
    var end = 0
    for r in (structural ?? []) + (named ?? []).map(\.value) {
        if r.lowerBound < 0 || r.upperBound > bytes.count || r.isEmpty { fatalError("a structural range is out of the input") }
        if r.lowerBound < end { fatalError("structural ranges overlap") }
        end = r.upperBound
    }
    // The Codable decoder reads exactly what the validator accepts, the same value as the strict reader,
    // and what the encoder writes of it reads back equal.
    let decoder = StrictJSONDecoder()
    let encoder = CompactJSONEncoder()
    let decoded = try? decoder.decode(JSONValue.self, from: bytes)
    if (decoded != nil) != valid { fatalError("StrictJSONDecoder and validate disagree") }
    if let decoded {
        if decoded != read { fatalError("StrictJSONDecoder and parseStrict read different values") }
        guard let again = try? encoder.encode(decoded) else { fatalError("a decoded JSONValue did not encode") }
        if (try? decoder.decode(JSONValue.self, from: again)) != decoded { fatalError("JSONValue did not round-trip") }
    }
    if let probe = try? decoder.decode(Probe.self, from: bytes) {
        guard let again = try? encoder.encode(probe) else { fatalError("a decoded Probe did not encode") }
        if (try? decoder.decode(Probe.self, from: again)) != probe { fatalError("Probe did not round-trip") }
    }
    // Foundation's decoder reads the same, but for the documented strict cases.
    // Only up to 128 levels: Foundation's coding path costs depth² per value (a 512-deep seed took over
    // 10 s under the sanitizers), and the decoder's own nesting limit is checked above without it.
    if maxNesting(bytes) <= 128 { FoundationDifferential(bytes, wellFormed: valid).checkAll() }
    return 0
}

/// The process entry SwiftPM links for a testable executable (`main` is an alias of it): libFuzzer's
/// driver with the callback above.
@_cdecl("FuzzJSON_main")
public func fuzzjsonMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzJSON(data, size) }
}

/// The deepest bracket nesting in `bytes`, strings skipped (a cheap bound, not a validation).
func maxNesting(_ bytes: [UInt8]) -> Int {
    var depth = 0
    var deepest = 0
    var inString = false
    var escaped = false
    for b in bytes {
        if inString {
            if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false }
        } else if b == 0x22 {
            inString = true
        } else if b == 0x5B || b == 0x7B {
            depth += 1
            deepest = max(deepest, depth)
        } else if b == 0x5D || b == 0x7D {
            depth -= 1
        }
    }
    return deepest
}
