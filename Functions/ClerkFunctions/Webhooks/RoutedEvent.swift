import JSON

/// A Clerk webhook body read in one pass through the registry: its `type` picks how `data` decodes. An
/// unregistered type is read no further (its `data` may be any shape).
struct RoutedEvent: Decodable {
    /// `user.created`, `session.created`, …
    let type: String
    /// Envelope time, epoch ms.
    let timestamp: Int64?
    /// The registered route and its decoded `data`; nil for a type the functions do not apply.
    let routed: (route: EventRoute, reading: EventRoute.Reading)?

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: EventKeys.self)
        type = try c.decode(String.self, forKey: .type)
        timestamp = try c.decodeIfPresent(Int64.self, forKey: .timestamp)
        if let route = EventRegistry.route(type) {
            routed = (route, try route.read(c))
        } else {
            routed = nil
        }
    }

    /// `data` as Clerk sent it, cut from `body` by structure (`body` has been read strictly already).
    static func dataJSON(of body: [UInt8]) -> String {
        guard let members = try? JSONScanner.members(byStructureOf: body),
            let data = members.last(where: { $0.name == "data" })
        else { return "null" }
        return String(decoding: body[data.value], as: UTF8.self)
    }
}
