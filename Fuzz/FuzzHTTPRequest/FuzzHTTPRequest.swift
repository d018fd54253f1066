import FuzzSupport
import LocalHosting

/// libFuzzer entry: the local HTTP/1.1 request reader (`serve`, the emulator), fed as one peer's bytes;
/// reads requests until the peer is done or a request is refused.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    var reader = HTTPRequestReader(bytes: Array(UnsafeBufferPointer(start: data, count: size)), maxBodyBytes: 1 << 16)
    for _ in 0..<64 {
        switch reader.next() {
        case .request(let r): _ = r.header("host")
        case .closed, .refused: return 0
        }
    }
    return 0
}

/// The process entry SwiftPM links for a testable executable (`main` is an alias of it): libFuzzer's
/// driver with the callback above.
@_cdecl("FuzzHTTPRequest_main")
public func fuzzhttprequestMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzHTTPRequest(data, size) }
}
