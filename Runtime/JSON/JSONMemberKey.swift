/// A member name chosen at run time, for `Encodable` values whose member names are data (an environment, a
/// queue) or depend on a case (`userId` or `organizationId`); members are written in the order encoded.
public struct JSONMemberKey: CodingKey, Sendable {
    public let stringValue: String
    public var intValue: Int? { nil }

    /// The member `name`.
    public init(_ name: String) { stringValue = name }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}

/// Members in a fixed order, names as given: `{"a":…,"b":…}` from `[("a", …), ("b", …)]`.
public struct JSONMembersInOrder<Value: Encodable & Sendable>: Encodable, Sendable {
    /// The members, in the order written.
    public var members: [(name: String, value: Value)]

    /// The members `members`, in that order.
    public init(_ members: [(name: String, value: Value)]) { self.members = members }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: JSONMemberKey.self)
        for (name, value) in members { try c.encode(value, forKey: JSONMemberKey(name)) }
    }
}
