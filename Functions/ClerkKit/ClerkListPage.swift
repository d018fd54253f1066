import JSON

/// A resource Clerk's Backend API lists page by page: users, organizations, an organization's memberships.
public protocol ClerkListed: Decodable, Sendable {
    /// `user_…`, `org_…`, `orgmem_…`.
    var id: String { get }
    /// Epoch ms: the lists' order.
    var createdAt: Int64? { get }
    /// Other ids it carries into keys (a membership's user): each must be a Clerk id too.
    var referencedIds: [String] { get }
}

extension ClerkUser: ClerkListed {
    public var referencedIds: [String] { [] }
}

extension ClerkOrganization: ClerkListed {
    public var referencedIds: [String] { [] }
}

extension ClerkMembership: ClerkListed {
    public var referencedIds: [String] { userId.map { [$0] } ?? [] }
}

/// One item of a list page: decoded, or refused on its own while the rest of its page stands.
public enum ClerkListItem<Resource: ClerkListed>: Sendable {
    /// Read with the strict rules; `json` is the item exactly as Clerk sent it.
    case decoded(Resource, json: String)
    /// Not the documented shape, or carrying an id that is not a Clerk id.
    case refused(ClerkRefusedItem)

    /// Its place in the list (id and `created_at`), what a backfill cursor anchors on.
    public var key: (id: String, createdMs: Int64?) {
        switch self {
        case .decoded(let resource, _): (resource.id, resource.createdAt)
        case .refused(let item): (item.key, item.createdAt)
        }
    }
}

/// An item of a list page that could not be taken: what could be read of it by structure, and why.
public struct ClerkRefusedItem: Sendable, Equatable {
    /// Its `id`, when it has one that is a Clerk id (the only part of it ever logged).
    public let id: String?
    /// Its `created_at`, when that is an integer.
    public let createdAt: Int64?
    /// `missing_id` (no `id` member), `invalid_id` (an id that is not a Clerk id), or `undecodable`.
    public let reason: String
    /// Which field, and what was wrong with it; never a value.
    public let detail: String
    /// The item as Clerk sent it: kept for a person to look at, never logged.
    public let json: String
    /// `id`, or for an item without one a stand-in made from its bytes (`~` and a hash: never a Clerk id),
    /// so that a backfill cursor can anchor on it and find it again.
    public let key: String
}

/// Cuts a Backend API list page into its items and reads each one on its own: one item that is not the
/// documented shape is refused alone (`ClerkListItem.refused`), the others stand. Only a page that is not the
/// documented shape at all (not an array, no `data` array, brackets that do not pair) is an error.
public enum ClerkListPage {
    /// The items of a page that is a bare array (`GET /v1/users`).
    public static func items<R: ClerkListed>(_ type: R.Type, ofArray body: [UInt8]) throws(ClerkAPIError) -> [ClerkListItem<R>] {
        let ranges: [Range<Int>]
        do {
            ranges = try JSONScanner.elementRanges(byStructureOf: body)
        } catch {
            throw .malformedResponse("the page is not a JSON array")
        }
        return ranges.map { item(R.self, Array(body[$0])) }
    }

    /// The items of a `{"data": [...], "total_count": N}` page (organizations, memberships).
    public static func items<R: ClerkListed>(_ type: R.Type, ofDataIn body: [UInt8]) throws(ClerkAPIError) -> [ClerkListItem<R>] {
        let ranges: [Range<Int>]
        do {
            let data = try JSONScanner.members(byStructureOf: body).filter { $0.name == "data" }
            // `data` twice would be two pages in one: which one is meant cannot be told.
            guard data.count == 1, let value = data.first?.value, value.lowerBound < body.count,
                body[value.lowerBound] == UInt8(ascii: "[")
            else { throw ClerkAPIError.malformedResponse("the page has no data array") }
            ranges = try JSONScanner.elementRanges(byStructureOf: body, in: value)
        } catch let error as ClerkAPIError {
            throw error
        } catch {
            throw .malformedResponse("the page is not a JSON object with a data array")
        }
        return ranges.map { item(R.self, Array(body[$0])) }
    }

    /// One item, read strictly on its own.
    static func item<R: ClerkListed>(_ type: R.Type, _ bytes: [UInt8]) -> ClerkListItem<R> {
        let json = String(decoding: bytes, as: UTF8.self)
        let resource: R
        do {
            resource = try JSONCoding.decoder.decode(R.self, from: bytes)
        } catch {
            let peek = Peek(bytes)
            return .refused(refusal(peek, reason: peek.hasId ? "undecodable" : "missing_id", detail: describe(error), json: json, bytes: bytes))
        }
        // Ids go into keys, paths and log lines: only Clerk's alphabet, and short enough for an index.
        guard ClerkBackendAPI.isSafeId(resource.id) else {
            return .refused(refusal(Peek(bytes), reason: "invalid_id", detail: "id is not a Clerk id", json: json, bytes: bytes))
        }
        guard resource.referencedIds.allSatisfy(ClerkBackendAPI.isSafeId) else {
            return .refused(
                ClerkRefusedItem(
                    id: resource.id, createdAt: resource.createdAt, reason: "invalid_id",
                    detail: "a referenced id is not a Clerk id", json: json, key: resource.id))
        }
        return .decoded(resource, json: json)
    }

    /// Why the strict decoder refused an item, without a value: the scanner's refusals name no place.
    static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error, context.codingPath.isEmpty {
            return "not strict JSON (a member named twice, a number out of range, bad UTF-8 or too deep)"
        }
        return DecodingErrorText.describe(error)
    }

    static func refusal(_ peek: Peek, reason: String, detail: String, json: String, bytes: [UInt8]) -> ClerkRefusedItem {
        ClerkRefusedItem(
            id: peek.id, createdAt: peek.createdAt, reason: reason, detail: detail, json: json,
            key: peek.id ?? "~" + hash(bytes))
    }

    /// FNV-1a (64 bits) in hex: a stand-in key for an item without an id (not a secret, not a defence).
    static func hash(_ bytes: [UInt8]) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// What can be read of an item the strict decoder refused: its `id` and `created_at`, each when the
    /// item is an object naming it once with a strict value of the right kind.
    struct Peek {
        var id: String?
        var createdAt: Int64?
        /// Whether it names `id` at all.
        var hasId = false

        init(_ bytes: [UInt8]) {
            guard let members = try? JSONScanner.members(byStructureOf: bytes) else { return }
            let ids = members.filter { $0.name == "id" }
            hasId = !ids.isEmpty
            if ids.count == 1, let range = ids.first?.value,
                let id = try? JSONCoding.decoder.decode(String.self, from: Array(bytes[range])), ClerkBackendAPI.isSafeId(id)
            {
                self.id = id
            }
            let created = members.filter { $0.name == "created_at" }
            if created.count == 1, let range = created.first?.value {
                createdAt = try? JSONCoding.decoder.decode(Int64.self, from: Array(bytes[range]))
            }
        }
    }
}
