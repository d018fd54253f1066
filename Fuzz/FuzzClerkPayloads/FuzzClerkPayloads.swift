import FuzzSupport
import JSON

@testable import ClerkFunctions
@testable import ClerkKit

let decoder = JSONCoding.decoder  // as ClerkBackendAPI decodes

/// libFuzzer entry: what Clerk sends us besides tokens and signatures. The first byte picks the decoder:
/// a webhook body (users, organizations, memberships), a Backend API answer (a user, a page of users, of
/// organizations, of memberships), a JWKS document, a machine-token verify answer, or a token whose type is
/// detected; the rest is the input. Property: what a decoder accepts the strict reader (`JSONValue.parseStrict`)
/// accepts too, and every field decoded is the strict reader's member of that name (`StrictView`); a list page
/// read item by item agrees with the page read whole.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClerkPayloads(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    switch data[0] % 9 {
    case 0:
        if let event = try? decoder.decode(RoutedEvent.self, from: bytes) { StrictView(bytes, acceptedBy: "RoutedEvent").check(event, body: bytes) }
    case 1:
        if let user = try? decoder.decode(ClerkUser.self, from: bytes) { StrictView(bytes, acceptedBy: "ClerkUser").check(user) }
    case 2:
        let whole = try? decoder.decode([ClerkUser].self, from: bytes)
        if let whole { checkWhole(whole, bytes, name: nil) { $0.check($1) } }
        checkItems({ try ClerkListPage.items(ClerkUser.self, ofArray: $0) }, bytes, whole: whole, name: nil) { $0.check($1) }
    case 3:
        let whole = try? decoder.decode(ClerkBackendAPI.Page<ClerkOrganization>.self, from: bytes)
        if let whole { checkWhole(whole.data, bytes, name: "data") { $0.check($1) } }
        checkItems({ try ClerkListPage.items(ClerkOrganization.self, ofDataIn: $0) }, bytes, whole: whole?.data, name: "data") { $0.check($1) }
    case 4:
        let whole = try? decoder.decode(ClerkBackendAPI.Page<ClerkMembership>.self, from: bytes)
        if let whole { checkWhole(whole.data, bytes, name: "data") { $0.check($1) } }
        checkItems({ try ClerkListPage.items(ClerkMembership.self, ofDataIn: $0) }, bytes, whole: whole?.data, name: "data") { $0.check($1) }
    case 5:
        if let keys = try? JSONWebKeySet.parse(bytes) { checkKeys(keys, bytes) }
    case 6:
        // A Backend API verify answer for a machine token, and the token type detection.
        for type in [ClerkTokenType.apiKey, .m2mToken, .oauthToken] {
            let verdict = MachineTokenVerifier.read(bytes, type: type, environment: "production", nowMs: 1_700_000_000_000)
            if case .valid(let identity) = verdict { checkIdentity(identity, bytes) }
        }
    case 8:
        // A page of Clerk Billing's subscription items (the billing backfill): each item taken is strict JSON
        // whose `id` and `status` are the strict reader's.
        for case .decoded(let item, let json) in (try? ClerkListPage.items(ClerkBillingItem.self, ofDataIn: bytes)) ?? [] {
            let view = StrictView(Array(json.utf8), acceptedBy: "billing item")
            view.expect(item.id, "id")
            view.expect(item.status, "status")
        }
    default: _ = ClerkTokenType.detect(String(decoding: bytes, as: UTF8.self))
    }
    return 0
}

/// A page decoded whole: the strict reader's page, its items (the array itself, or member `name`), each equal.
func checkWhole<R>(_ items: [R], _ bytes: [UInt8], name: String?, check: (StrictView, R) -> Void) {
    let values = strictItems(bytes, name: name, acceptedBy: "a page decoded whole")
    if values.count != items.count { fatalError("a page decoded whole: \(items.count) items of \(values.count)") }
    for (i, (item, value)) in zip(items, values).enumerated() { check(StrictView(value, path: "item \(i)"), item) }
}

/// A page read item by item: each item taken is strict JSON and its fields the strict reader's; when the
/// page is strict JSON, the items are its elements in order; when it also decoded whole, every item decoded
/// to the same resource or was refused for its id only.
func checkItems<R: ClerkListed & Equatable>(
    _ read: ([UInt8]) throws -> [ClerkListItem<R>], _ bytes: [UInt8],
    whole: [R]?, name: String?, check: (StrictView, R) -> Void
) {
    guard let items = try? read(bytes) else {
        if whole != nil { fatalError("a page decoded whole but could not be read item by item") }
        return
    }
    for (i, item) in items.enumerated() {
        if case .decoded(let resource, let json) = item { check(StrictView(Array(json.utf8), acceptedBy: "list item \(i)"), resource) }
    }
    guard (try? JSONValue.parseStrict(bytes)) != nil else { return }
    let values = strictItems(bytes, name: name, acceptedBy: "a strict page")
    if values.count != items.count { fatalError("a strict page of \(values.count) items read as \(items.count)") }
    for (i, (item, value)) in zip(items, values).enumerated() {
        let json: String
        switch item {
        case .decoded(_, let j): json = j
        case .refused(let refused): json = refused.json
        }
        if (try? JSONValue.parseStrict(Array(json.utf8))) != value { fatalError("item \(i) of a strict page is not its element \(i)") }
    }
    guard let whole else { return }
    for (i, (item, resource)) in zip(items, whole).enumerated() {
        switch item {
        case .decoded(let r, _) where r == resource: continue
        case .refused(let refused) where refused.reason == "invalid_id": continue
        default: fatalError("item \(i) decoded whole as \(resource), item by item as \(item)")
        }
    }
}

/// The strict reader's items of a page: the document (an array), or its member `name` (an array).
func strictItems(_ bytes: [UInt8], name: String?, acceptedBy reader: String) -> [JSONValue] {
    guard let name else {
        guard case .array(let values)? = try? JSONValue.parseStrict(bytes) else { fatalError("\(reader): not a strict array") }
        return values
    }
    return StrictView(bytes, acceptedBy: reader).elements(name)
}

/// Every key taken is a strict `keys` entry with that `kid`, an RSA signature key declaring the same `alg`.
func checkKeys(_ keys: [String: JSONWebKey], _ bytes: [UInt8]) {
    let entries = StrictView(bytes, acceptedBy: "JSONWebKeySet").elements("keys").map { StrictView($0, path: "keys[]") }
    for (kid, key) in keys {
        let matching = entries.filter {
            $0.member("kid")?.stringValue == kid && $0.member("kty")?.stringValue == "RSA"
                && ($0.member("use") == nil || $0.member("use")?.stringValue == "sig")
                && $0.member("alg")?.stringValue == key.algorithm
        }
        if matching.isEmpty || key.id != kid {
            fatalError("JWKS key \(kid) is no RSA signature key of the document with alg \(key.algorithm.debugDescription)")
        }
    }
}

/// A machine token taken: subject, scopes, claims, expiry and client as the strict reader has them.
func checkIdentity(_ identity: MachineIdentity, _ bytes: [UInt8]) {
    let view = StrictView(bytes, acceptedBy: "MachineTokenVerifier.read")
    view.expect(identity.subject, "subject")
    view.expect(identity.scopes, "scopes")
    view.expect(identity.expiresAtMs, "expiration")
    if identity.claims != (view.object["claims"] ?? .null) { view.fail("claims", "not the member") }
    if identity.tokenType == .oauthToken {
        view.expect(identity.clientId, "client_id")
    } else if identity.clientId != nil {
        view.fail("client_id", "a client for a token that is not OAuth")
    }
    for flag in ["revoked", "expired"] where view.member(flag)?.boolValue == true { view.fail(flag, "taken while true") }
}

/// The process entry SwiftPM links for a testable executable: libFuzzer's driver with the callback above.
@_cdecl("FuzzClerkPayloads_main")
public func fuzzClerkPayloadsMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzClerkPayloads(data, size) }
}
