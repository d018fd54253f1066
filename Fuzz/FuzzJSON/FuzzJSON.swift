import FuzzSupport
import JSON

/// libFuzzer entry: the JSON scanner (whole-document validation and the member walk tokens use) and the
/// strict reader built on it.
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
    let read = (try? JSONValue.parseStrict(bytes)) != nil
    if read != valid { fatalError("parseStrict and validate disagree") }
    // Every element the array splitter cuts out is itself one valid document.
    if let ranges = try? JSONScanner.arrayElementRanges(bytes) {
        for r in ranges where (try? JSONScanner.validate(Array(bytes[r]))) == nil { fatalError("an element range is not a value") }
    }
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
