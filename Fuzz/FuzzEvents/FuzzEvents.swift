import ClerkKit
import FuzzSupport
import Store

@testable import ClerkFunctions

/// libFuzzer entry: the API Gateway / Function URL request decoder and the SQS / Amazon MQ batch decoder
/// (decoding only: nothing is handled, so no database is needed), each against the strict reader's view of
/// the same bytes (`EventsStrictView`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEvents(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let request = try? APIRequest.decode(bytes) {
        EventsStrictView.check(request, bytes)
        _ = request.header("authorization")
        _ = request.cookie("__session")
        // `me` reads the authorizer's userId as a UUID.
        if let id = request.authorizer["userId"]?.stringValue { checkUUID(id) }
    }
    checkUUID(String(decoding: bytes, as: UTF8.self))
    if let batch = try? QueueBatch.decode(bytes) { EventsStrictView.check(batch, bytes) }
    return 0
}

/// A UUID that parses prints as one lowercase spelling, which parses back to the same bytes.
func checkUUID(_ text: String) {
    guard let id = PostgresUUID(uuidString: text) else { return }
    let printed = id.uuidString
    if printed.utf8.count != 36 || printed != printed.lowercased() || PostgresUUID(uuidString: printed) != id {
        fatalError("PostgresUUID does not round-trip")
    }
}

/// The process entry SwiftPM links for a testable executable (`main` is an alias of it): libFuzzer's
/// driver with the callback above.
@_cdecl("FuzzEvents_main")
public func fuzzeventsMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzEvents(data, size) }
}
