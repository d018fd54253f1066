/// The HTTP API routes of an AWS SAM template, for the local API server.
///
/// Reads the block-style YAML subset SAM templates are written in (mappings, lists, `>`/`|` text, tags
/// such as `!Ref` kept as text); flow collections and anchors are not supported. Good for our own
/// template, which the tests check with cfn-lint and SAM itself.
public struct SAMTemplate: Sendable {
    /// One route: `METHOD path` served by a function, maybe behind an authorizer function.
    public struct Route: Sendable, Equatable {
        /// `GET`, `POST`, ...
        public var method: String
        /// The route path.
        public var path: String
        /// The function serving it.
        public var handler: String
        /// The authorizer function, for protected routes.
        public var authorizerHandler: String?
        /// The header the authorizer needs (API Gateway answers 401 without it).
        public var identityHeader: String?

        /// Describes a route.
        public init(method: String, path: String, handler: String, authorizerHandler: String?, identityHeader: String?) {
            self.method = method
            self.path = path
            self.handler = handler
            self.authorizerHandler = authorizerHandler
            self.identityHeader = identityHeader
        }
    }

    /// Every HttpApi route.
    public let routes: [Route]

    indirect enum Node {
        case scalar(String)
        case map([(String, Node)])
        case list([Node])

        subscript(key: String) -> Node? {
            if case .map(let entries) = self { return entries.first { $0.0 == key }?.1 }
            return nil
        }
        var text: String? { if case .scalar(let s) = self { return s } else { return nil } }
        var entries: [(String, Node)] { if case .map(let e) = self { return e } else { return [] } }
        var items: [Node] { if case .list(let l) = self { return l } else { return [] } }
    }

    /// Parses template text.
    public init(text: String) {
        let root = Self.parse(text)
        var handlers: [String: String] = [:]
        var authorizers: [String: (function: String, header: String?)] = [:]
        let resources = root["Resources"]?.entries ?? []
        for (id, resource) in resources where resource["Type"]?.text == "AWS::Serverless::Function" {
            handlers[id] = resource["Properties"]?["Handler"]?.text
        }
        for (_, resource) in resources where resource["Type"]?.text == "AWS::Serverless::HttpApi" {
            for (name, auth) in resource["Properties"]?["Auth"]?["Authorizers"]?.entries ?? [] {
                // FunctionArn: !GetAtt LogicalId.Arn
                let arn = auth["FunctionArn"]?.text ?? ""
                let logical = arn.split(separator: " ").last.map { String($0.split(separator: ".").first ?? "") } ?? ""
                authorizers[name] = (logical, auth["Identity"]?["Headers"]?.items.first?.text)
            }
        }
        var routes: [Route] = []
        for (id, resource) in resources where resource["Type"]?.text == "AWS::Serverless::Function" {
            guard let handler = handlers[id] else { continue }
            for (_, event) in resource["Properties"]?["Events"]?.entries ?? [] where event["Type"]?.text == "HttpApi" {
                let p = event["Properties"]
                guard let path = p?["Path"]?.text, let method = p?["Method"]?.text else { continue }
                let authName = p?["Auth"]?["Authorizer"]?.text
                let auth = authName.flatMap { authorizers[$0] }
                routes.append(Route(method: method.uppercased(), path: path, handler: handler,
                                    authorizerHandler: auth.flatMap { handlers[$0.function] }, identityHeader: auth?.header))
            }
        }
        self.routes = routes
    }

    /// Reads a template file.
    public init(path: String) throws { self.init(text: try FileIO.readText(path)) }

    private struct Line {
        var indent: Int
        var text: String
    }

    static func parse(_ text: String) -> Node {
        var lines: [Line] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let indent = raw.prefix(while: { $0 == " " }).count
            let body = String(raw.dropFirst(indent))
            if body.isEmpty || body.hasPrefix("#") { lines.append(Line(indent: -1, text: body)); continue }
            lines.append(Line(indent: indent, text: body))
        }
        var i = 0
        return block(&lines, &i, indent: 0)
    }

    private static func skipBlank(_ lines: inout [Line], _ i: inout Int) {
        while i < lines.count && lines[i].indent < 0 { i += 1 }
    }

    private static func block(_ lines: inout [Line], _ i: inout Int, indent: Int) -> Node {
        skipBlank(&lines, &i)
        guard i < lines.count, lines[i].indent >= indent else { return .scalar("") }
        let level = lines[i].indent
        if lines[i].text.hasPrefix("- ") || lines[i].text == "-" {
            var items: [Node] = []
            while i < lines.count {
                skipBlank(&lines, &i)
                guard i < lines.count, lines[i].indent == level, lines[i].text.hasPrefix("-") else { break }
                let rest = String(lines[i].text.dropFirst(1)).trimmingWhitespace()
                if rest.isEmpty {
                    i += 1
                    items.append(block(&lines, &i, indent: level + 1))
                } else if splitKey(rest) != nil {
                    // "- key: value" starts a mapping at the item's own indentation plus two.
                    lines[i] = Line(indent: level + 2, text: rest)
                    items.append(block(&lines, &i, indent: level + 2))
                } else {
                    items.append(.scalar(unquote(rest)))
                    i += 1
                }
            }
            return .list(items)
        }
        var entries: [(String, Node)] = []
        while i < lines.count {
            skipBlank(&lines, &i)
            guard i < lines.count, lines[i].indent == level, let (key, value) = splitKey(lines[i].text) else { break }
            i += 1
            if value == ">" || value == "|" || value == ">-" || value == "|-" {
                var parts: [String] = []
                while i < lines.count && (lines[i].indent < 0 || lines[i].indent > level) {
                    if lines[i].indent >= 0 { parts.append(lines[i].text) }
                    i += 1
                }
                entries.append((key, .scalar(parts.joined(separator: value.hasPrefix(">") ? " " : "\n"))))
            } else if value.isEmpty {
                skipBlank(&lines, &i)
                let child = i < lines.count && lines[i].indent > level ? block(&lines, &i, indent: lines[i].indent)
                    : (i < lines.count && lines[i].indent == level && lines[i].text.hasPrefix("-") ? block(&lines, &i, indent: level) : .scalar(""))
                entries.append((key, child))
            } else {
                entries.append((key, .scalar(unquote(value))))
            }
        }
        return .map(entries)
    }

    private static func splitKey(_ text: String) -> (String, String)? {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let after = text.index(after: colon)
        guard after == text.endIndex || text[after] == " " else { return nil }
        let key = String(text[..<colon]).trimmingWhitespace()
        guard !key.isEmpty, !key.contains(" ") else { return nil }
        var value = String(text[after...]).trimmingWhitespace()
        if !value.hasPrefix("\""), !value.hasPrefix("'"), let hash = value.firstRange(of: " #") {
            value = String(value[..<hash.lowerBound]).trimmingWhitespace()
        }
        return (key, value)
    }

    private static func unquote(_ s: String) -> String {
        if s.count >= 2, let f = s.first, f == "\"" || f == "'", s.last == f { return String(s.dropFirst().dropLast()) }
        return s
    }
}
