import FuzzSupport
@testable import ClerkKit
import FoundationEssentials

let events = ClerkEventDecoder()
let decoder = JSONDecoder()   // as ClerkBackendAPI decodes

/// libFuzzer entry: what Clerk sends us besides tokens and signatures. The first byte picks the decoder:
/// a webhook body (users, organizations, memberships), a Backend API answer (a user, a page of users, of
/// organizations, of memberships), a JWKS document, a machine-token verify answer, or a token whose type is
/// detected; the rest is the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClerkPayloads(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    switch data[0] % 8 {
    case 0: _ = try? events.event(bytes)
    case 1: _ = try? decoder.decode(ClerkUser.self, from: Data(bytes))
    case 2:
        _ = try? decoder.decode([ClerkUser].self, from: Data(bytes))
        _ = try? ClerkListPage.items(ClerkUser.self, ofArray: bytes)
    case 3:
        _ = try? decoder.decode(ClerkBackendAPI.Page<ClerkOrganization>.self, from: Data(bytes))
        _ = try? ClerkListPage.items(ClerkOrganization.self, ofDataIn: bytes)
    case 4:
        _ = try? decoder.decode(ClerkBackendAPI.Page<ClerkMembership>.self, from: Data(bytes))
        _ = try? ClerkListPage.items(ClerkMembership.self, ofDataIn: bytes)
    case 5: _ = try? JSONWebKeySet.parse(bytes)
    case 6:
        // A Backend API verify answer for a machine token, and the token type detection.
        for type in [ClerkTokenType.apiKey, .m2mToken, .oauthToken] {
            _ = MachineTokenVerifier.read(bytes, type: type, environment: "production", nowMs: 1_700_000_000_000)
        }
    default: _ = ClerkTokenType.detect(String(decoding: bytes, as: UTF8.self))
    }
    return 0
}

/// The process entry SwiftPM links for a testable executable: libFuzzer's driver with the callback above.
@_cdecl("FuzzClerkPayloads_main")
public func fuzzClerkPayloadsMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzClerkPayloads(data, size) }
}
