/// Which URLs keys and secrets may travel to: `https://`, or plain `http://` to a loopback host only.
///
/// Over plain http anyone on the path could substitute keys or read the secret key; loopback stays for
/// local stand-ins and tests.
public enum URLPolicy {
    /// `https://host…`, or `http://` to 127.0.0.0/8, `[::1]` or `localhost` (optional port). The host is
    /// read strictly (no user info, no backslash, dotted-quad only) so that no URL parser, libcurl's
    /// included, could see another host than the one checked.
    public static func isAllowed(_ url: String) -> Bool {
        let lower = url.lowercased()
        let secure = lower.hasPrefix("https://")
        guard secure || lower.hasPrefix("http://") else { return false }
        let authority = lower.dropFirst(secure ? 8 : 7).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty, !authority.contains(where: { $0 == "\\" || $0 == " " || $0.isNewline }) else { return false }
        if secure { return true }
        guard !authority.contains("@") else { return false }
        let host: Substring
        let port: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return false }
            host = authority[authority.index(after: authority.startIndex)..<close]
            port = authority[authority.index(after: close)...]
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            port = authority[colon...]
        } else {
            host = authority
            port = ""
        }
        let digits = port.dropFirst()
        guard port.isEmpty || (port.first == ":" && (1...5).contains(digits.count) && digits.allSatisfy({ $0.isASCII && $0.isNumber }))
        else { return false }
        return host == "localhost" || host == "::1" || isLoopbackIPv4(host)
    }

    /// A dotted quad `127.a.b.c` with every part 0…255 (no short forms, hex or octal).
    static func isLoopbackIPv4(_ host: Substring) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.first == "127" else { return false }
        return parts.allSatisfy { p in
            (1...3).contains(p.count) && p.allSatisfy({ $0.isASCII && $0.isNumber }) && (Int(p).map { $0 <= 255 } ?? false)
        }
    }
}
