import LambdaRuntime
import Yams

/// A template that could not be read as YAML.
public enum SAMTemplateError: Error {
    /// The text holds no YAML document.
    case empty
}

/// The HTTP API routes of an AWS SAM template, for the local API server.
///
/// Read with Yams, so any YAML a SAM template may use works (flow collections, anchors, the short and
/// long forms of intrinsic functions); CloudFormation's tags such as `!GetAtt` stay on their scalars.
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

    /// Parses template text; throws when it is not YAML.
    public init(text: String) throws {
        guard let root = try Yams.compose(yaml: text) else { throw SAMTemplateError.empty }
        var handlers: [String: String] = [:]
        var authorizers: [String: (function: String, header: String?)] = [:]
        let resources = root["Resources"]?.mapping.map(Array.init) ?? []
        func type(_ resource: Node) -> String? { resource["Type"]?.string }
        for (id, resource) in resources where type(resource) == "AWS::Serverless::Function" {
            if let id = id.string { handlers[id] = resource["Properties"]?["Handler"]?.string }
        }
        for (_, resource) in resources where type(resource) == "AWS::Serverless::HttpApi" {
            for (name, auth) in resource["Properties"]?["Auth"]?["Authorizers"]?.mapping ?? [:] {
                guard let name = name.string else { continue }
                // FunctionArn: !GetAtt LogicalId.Arn (a tagged scalar), or the long form {Fn::GetAtt: [LogicalId, Arn]}.
                let arn = auth["FunctionArn"]
                let logical =
                    arn?.string.map { String($0.split(separator: ".").first ?? "") }
                    ?? arn?["Fn::GetAtt"]?.sequence?.first?.string ?? ""
                authorizers[name] = (logical, auth["Identity"]?["Headers"]?.sequence?.first?.string)
            }
        }
        var routes: [Route] = []
        for (id, resource) in resources where type(resource) == "AWS::Serverless::Function" {
            guard let id = id.string, let handler = handlers[id] else { continue }
            for (_, event) in resource["Properties"]?["Events"]?.mapping ?? [:] where event["Type"]?.string == "HttpApi" {
                let p = event["Properties"]
                guard let path = p?["Path"]?.string, let method = p?["Method"]?.string else { continue }
                let authName = p?["Auth"]?["Authorizer"]?.string
                let auth = authName.flatMap { authorizers[$0] }
                routes.append(
                    Route(
                        method: method.uppercased(), path: path, handler: handler,
                        authorizerHandler: auth.flatMap { handlers[$0.function] }, identityHeader: auth?.header))
            }
        }
        self.routes = routes
    }

    /// Reads a template file.
    public init(path: String) throws { try self.init(text: try FileIO.readText(path)) }
}
