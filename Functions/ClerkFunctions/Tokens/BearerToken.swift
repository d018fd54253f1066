/// Where a Clerk token travels in a request, read one way by every function: `Authorization: Bearer …`
/// (scheme in any case, spaces trimmed), else Clerk's `__session` cookie (from `Cookie` headers or API
/// Gateway's `cookies` list, several `a=b; c=d` pairs to an entry).
enum BearerToken {
    /// The token of an `Authorization` value, or nil when it is not a bearer token.
    static func fromAuthorization(_ value: String?) -> String? {
        guard let v = value?.trimmingWhitespace(), !v.isEmpty else { return nil }
        guard v.utf8.count > 7, v.prefix(7).lowercased() == "bearer " else { return nil }
        let token = v.dropFirst(7).trimmingWhitespace()
        return token.isEmpty ? nil : token
    }

    /// The `__session` cookie among `cookies` (each entry one or more `name=value` pairs separated by `;`).
    static func sessionCookie(_ cookies: [String]) -> String? {
        for entry in cookies {
            for pair in entry.split(separator: ";") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0].trimmingWhitespace() == "__session" {
                    let value = kv[1].trimmingWhitespace()
                    return value.isEmpty ? nil : value
                }
            }
        }
        return nil
    }

    /// The bearer token, else the session cookie.
    static func find(authorization: String?, cookies: [String]) -> String? {
        fromAuthorization(authorization) ?? sessionCookie(cookies)
    }
}
