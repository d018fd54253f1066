import JSON

/// What `verifyToken` answers, in the shape of the event that asked: an HTTP API simple response, a REST API
/// IAM policy, or the direct `{"valid", …}` of a service-to-service check. Written as Encodable values through
/// the JSON module (whose encoder sorts members, so the answer reads the same every time).
enum AuthorizerAnswer {
    /// `{"isAuthorized", "context"}` (HTTP API, payload 2.0, simple responses).
    struct Simple: Encodable, Sendable {
        var isAuthorized: Bool
        var context: [String: String]
    }

    /// `{"principalId", "policyDocument", "context"}` (REST API TOKEN and REQUEST authorizers).
    struct Policy: Encodable, Sendable {
        struct Document: Encodable, Sendable {
            struct Statement: Encodable, Sendable {
                var Action = "execute-api:Invoke"
                var Effect: String
                var Resource: String
            }
            var Version = "2012-10-17"
            var Statement: [Statement]
        }
        var principalId: String
        var policyDocument: Document
        var context: [String: String]

        /// `effect` on every method of the stage `methodArn` names (`…:apiId/stage/*`), so that API Gateway may
        /// cache the answer for the token across routes.
        init(principalId: String, effect: String, methodArn: String, context: [String: String]) {
            let parts = methodArn.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
            let resource = parts.count >= 2 ? "\(parts[0])/\(parts[1])/*" : methodArn
            self.principalId = principalId
            policyDocument = Document(Statement: [.init(Effect: effect, Resource: resource)])
            self.context = context
        }
    }

    /// `{…context, "valid": true, "claims"}` or `{"valid": false, "reason"}` (a direct `{"token"}` check).
    struct Direct: Encodable, Sendable {
        var context: [String: String] = [:]
        var valid: Bool
        var claims: JSONValue?
        var reason: String?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: JSONMemberKey.self)
            for (name, value) in context where !["valid", "claims", "reason"].contains(name) {
                try c.encode(value, forKey: JSONMemberKey(name))
            }
            try c.encode(valid, forKey: JSONMemberKey("valid"))
            try c.encodeIfPresent(claims, forKey: JSONMemberKey("claims"))
            try c.encodeIfPresent(reason, forKey: JSONMemberKey("reason"))
        }
    }

    /// The answer's bytes.
    static func bytes(_ value: some Encodable) -> [UInt8] {
        (try? JSONCoding.encoder.encode(value)) ?? Array(#"{"valid":false,"reason":"internal_error"}"#.utf8)
    }
}
