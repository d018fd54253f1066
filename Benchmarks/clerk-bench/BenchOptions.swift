/// `--name value` options of a benchmark run.
struct BenchOptions {
    private var values: [String: String] = [:]

    init(_ args: [String]) {
        var i = 0
        while i < args.count {
            if args[i].hasPrefix("--"), i + 1 < args.count {
                values[String(args[i].dropFirst(2))] = args[i + 1]
                i += 2
            } else {
                i += 1
            }
        }
    }

    func string(_ name: String, _ fallback: String) -> String { values[name] ?? fallback }
    func int(_ name: String, _ fallback: Int) -> Int { values[name].flatMap { Int($0) } ?? fallback }
    func optional(_ name: String) -> String? { values[name] }
}

/// Fixed-point formatting for figures (no Foundation String(format:)).
func fmt(_ value: Double, _ decimals: Int = 1) -> String {
    let scale = (0..<decimals).reduce(1.0) { r, _ in r * 10 }
    let rounded = (value * scale).rounded() / scale
    var text = String(rounded)
    if let dot = text.firstIndex(of: ".") {
        let have = text.distance(from: dot, to: text.endIndex) - 1
        if have < decimals { text += String(repeating: "0", count: decimals - have) }
        if decimals == 0 { text = String(text[..<dot]) }
    }
    return text
}
