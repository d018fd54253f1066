/// A member name chosen at run time, for `Encodable` values whose member names are data (an environment, a
/// queue) or depend on a case (`userId` or `organizationId`). The encoder writes members sorted, as for every object.
public struct JSONMemberKey: CodingKey, Sendable {
    public let stringValue: String
    public var intValue: Int? { nil }

    /// The member `name`.
    public init(_ name: String) { stringValue = name }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}
