/// A small Codable shape for the typed decoder: optionals, integers of two widths, nesting, a dictionary
/// and an enum with associated values (synthesized coding).
struct Probe: Codable, Equatable {
    enum Shape: Codable, Equatable {
        case circle(r: Double)
        case rect(Int, Int)
        case point
    }

    var id: String?
    var n: Int64?
    var u: UInt8?
    var d: Double?
    var b: Bool?
    var items: [Probe]?
    var tags: [String: Int]?
    var shape: Shape?
}
