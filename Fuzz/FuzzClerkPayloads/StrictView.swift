import JSON

@testable import ClerkFunctions
@testable import ClerkKit

/// The strict reader's view of a document (`JSONValue.parseStrict`), which the decoders must agree with: a
/// decoder that accepted bytes the strict reader refuses, or read a field other than the strict reader's
/// member of that name, stops the run.
struct StrictView {
    /// Where in the document (for the report).
    let path: String
    let object: JSONObject

    /// The strict reading of `bytes` as an object; stops the run when it refuses what `decoder` accepted.
    init(_ bytes: [UInt8], acceptedBy decoder: String) {
        guard let value = try? JSONValue.parseStrict(bytes) else {
            fatalError("\(decoder) accepted a document the strict reader refuses")
        }
        self.init(value, path: decoder)
    }

    /// `value` as an object (the decoders read only objects where this is used).
    init(_ value: JSONValue?, path: String) {
        guard case .object(let o)? = value else { fatalError("\(path): decoded from something that is not an object") }
        self.path = path
        object = o
    }

    /// The member `name`, absent and null both nil (what `decodeIfPresent` reads).
    func member(_ name: String) -> JSONValue? {
        switch object[name] {
        case nil, .null?: nil
        case let value?: value
        }
    }

    func fail(_ name: String, _ why: String) -> Never { fatalError("\(path).\(name): \(why)") }

    /// A string field: equal to the member, which must be a string when it is there.
    func expect(_ decoded: String?, _ name: String) {
        let m = member(name)
        if m != nil && m?.stringValue == nil { fail(name, "decoded from a member that is not a string") }
        if decoded != m?.stringValue { fail(name, "decoded \(decoded.debugDescription), the member is \(m.debugDescription)") }
    }

    /// An integer field: the member's number.
    func expect(_ decoded: Int64?, _ name: String) {
        let m = member(name)
        switch (decoded, m) {
        case (nil, nil): return
        case (let d?, .number(let n)?) where Double(d) == n: return
        default: fail(name, "decoded \(decoded.debugDescription), the member is \(m.debugDescription)")
        }
    }

    /// A boolean field.
    func expect(_ decoded: Bool?, _ name: String) {
        if decoded != member(name)?.boolValue || (member(name) != nil && member(name)?.boolValue == nil) {
            fail(name, "decoded \(decoded.debugDescription), the member is \(member(name).debugDescription)")
        }
    }

    /// A list of strings (absent or null read as empty).
    func expect(_ decoded: [String], _ name: String) {
        guard let m = member(name) else {
            if !decoded.isEmpty { fail(name, "decoded items from no member") }
            return
        }
        guard case .array(let items) = m, items.map(\.stringValue) == decoded.map(Optional.some) else {
            fail(name, "decoded \(decoded), the member is \(m)")
        }
    }

    /// The view of member `name`, an object.
    func nested(_ name: String) -> StrictView { StrictView(member(name), path: path + "." + name) }

    /// The member `name`'s elements (absent or null read as none).
    func elements(_ name: String) -> [JSONValue] {
        guard let m = member(name) else { return [] }
        guard case .array(let items) = m else { fail(name, "decoded a list from a member that is not one") }
        return items
    }
}

extension StrictView {
    func check(_ user: ClerkUser) {
        expect(user.id, "id")
        for (field, name) in [
            (user.username, "username"), (user.firstName, "first_name"), (user.lastName, "last_name"),
            (user.imageUrl, "image_url"), (user.primaryEmailAddressId, "primary_email_address_id")
        ] {
            expect(field, name)
        }
        let emails = elements("email_addresses")
        if emails.count != user.emailAddresses.count { fail("email_addresses", "\(user.emailAddresses.count) decoded of \(emails.count)") }
        for (i, (email, value)) in zip(user.emailAddresses, emails).enumerated() {
            let view = StrictView(value, path: path + ".email_addresses[\(i)]")
            view.expect(email.id, "id")
            view.expect(email.emailAddress, "email_address")
        }
        expect(user.createdAt, "created_at")
        expect(user.updatedAt, "updated_at")
    }

    func check(_ organization: ClerkOrganization) {
        expect(organization.id, "id")
        expect(organization.name, "name")
        expect(organization.slug, "slug")
        expect(organization.imageUrl, "image_url")
        let metadata = member("public_metadata")?.serialized() ?? "{}"
        if organization.publicMetadataJSON != metadata {
            fail("public_metadata", "kept \(organization.publicMetadataJSON), the member is \(metadata)")
        }
        expect(organization.createdAt, "created_at")
        expect(organization.updatedAt, "updated_at")
    }

    func check(_ membership: ClerkMembership) {
        expect(membership.id, "id")
        expect(membership.role, "role")
        expect(membership.permissions, "permissions")
        nested("organization").expect(membership.organizationId, "id")
        if member("public_user_data") == nil {
            if membership.userId != nil { fail("public_user_data", "a user id from no member") }
        } else {
            nested("public_user_data").expect(membership.userId, "user_id")
        }
        expect(membership.createdAt, "created_at")
        expect(membership.updatedAt, "updated_at")
    }

    func check(_ deleted: ClerkDeletedObject) {
        expect(deleted.id, "id")
        expect(deleted.deleted, "deleted")
        expect(deleted.slug, "slug")
    }

    /// A webhook body read through the event registry: the envelope as the strict reader has it; for a
    /// registered type, `data` cut from the body is the strict reader's `data`, and the store change is about
    /// the resource `data` names.
    func check(_ event: RoutedEvent, body: [UInt8]) {
        expect(event.type, "type")
        expect(event.timestamp, "timestamp")
        guard let (route, reading) = event.routed else {
            if EventRegistry.route(event.type) != nil { fail("type", "registered \(event.type) not routed") }
            return
        }
        if route.type != event.type { fail("type", "\(event.type) routed as \(route.type)") }
        let dataJSON = RoutedEvent.dataJSON(of: body)
        if (try? JSONValue.parseStrict(Array(dataJSON.utf8))) != member("data") { fail("data", "cut from the body is not the member") }
        let change = reading(EventMeta(deliveryId: "msg", environment: "production", dataJSON: dataJSON, timestamp: event.timestamp))
        nested("data").expect(change.clerkId, "id")
    }
}
