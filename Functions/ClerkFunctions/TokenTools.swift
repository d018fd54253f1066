import ClerkKit
import LambdaRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Development keys and tokens: `dev-keys`, `sign-token` and `invoke --mint-token`.
public enum TokenTools {
    /// The issuer development tokens carry unless told otherwise.
    public static let devIssuer = "https://clerk.dev.localhost"

    /// The `kid` of a development key: derived from its public key, so every tool agrees without a side file.
    public static func keyId(publicPEM: String) -> String {
        "ins_dev_" + String(Base64.encode(Crypto.sha256(Array(publicPEM.utf8)).array, url: true).prefix(20))
    }

    /// Loads a development private key from a PEM file.
    public static func loadKey(_ path: String) throws -> DevelopmentKey {
        let pem = try FileIO.readText(path)
        let probe = try DevelopmentKey(pem: pem, keyId: "probe")
        return try DevelopmentKey(pem: pem, keyId: keyId(publicPEM: probe.publicPEM))
    }

    /// Replaces every `DEV_SESSION_TOKEN` (or `DEV_SESSION_TOKEN:user_id`) in `event` with a fresh token.
    public static func mint(into event: [UInt8], key: DevelopmentKey, issuer: String, defaultSubject: String) throws -> [UInt8] {
        let marker = Array("DEV_SESSION_TOKEN".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < event.count {
            if event[i] == marker[0], i + marker.count <= event.count, Array(event[i..<(i + marker.count)]) == marker {
                i += marker.count
                var subject = defaultSubject
                if i < event.count, event[i] == UInt8(ascii: ":") {
                    var j = i + 1
                    while j < event.count, event[j] == UInt8(ascii: "_") || (event[j] >= 0x30 && event[j] <= 0x39)
                            || (event[j] | 0x20 >= 0x61 && event[j] | 0x20 <= 0x7A) { j += 1 }
                    subject = String(decoding: event[(i + 1)..<j], as: UTF8.self)
                    i = j
                }
                let claims = DevelopmentKey.sessionClaims(subject: subject, issuer: issuer, now: Clock.nowSeconds())
                out += Array(try key.sign(payloadJSON: claims).utf8)
            } else {
                out.append(event[i])
                i += 1
            }
        }
        return out
    }

    /// `invoke --mint-token`: uses `CLERK_DEV_KEY` (a PEM private key file) and `CLERK_ISSUER`.
    public static let mintTransform = EventTransform(
        flag: "--mint-token", summary: "replace DEV_SESSION_TOKEN[:user_id] with a fresh token signed by CLERK_DEV_KEY"
    ) { event, _, env in
        guard let path = env["CLERK_DEV_KEY"] else {
            throw ConfigError.missing("CLERK_DEV_KEY", hint: "run `clerk-functions dev-keys` and point CLERK_DEV_KEY at dev-key.pem")
        }
        return try mint(into: event, key: loadKey(path), issuer: env["CLERK_ISSUER"] ?? devIssuer,
                        defaultSubject: env["CLERK_DEV_SUBJECT"] ?? "user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF")
    }

    /// `dev-keys`: writes a development key pair and its JWKS.
    public static let devKeys = Command(
        name: "dev-keys", usage: "[--dir DIR]",
        summary: "write DIR/dev-key.pem (private), dev-key.pub.pem and jwks.json for local tokens (default DIR: .)"
    ) { args, _ in
        var dir = "."
        if let i = args.firstIndex(of: "--dir") {
            guard i + 1 < args.count else { throw UsageError("--dir needs a folder") }
            dir = args[i + 1]
        }
        mkdir(dir, 0o755)
        let probe = try DevelopmentKey()
        let key = try DevelopmentKey(pem: probe.privatePEM, keyId: keyId(publicPEM: probe.publicPEM))
        try write(dir + "/dev-key.pem", key.privatePEM, mode: 0o600)
        try write(dir + "/dev-key.pub.pem", key.publicPEM, mode: 0o644)
        try write(dir + "/jwks.json", key.jwks() + "\n", mode: 0o644)
        print("""
            wrote \(dir)/dev-key.pem (private: keep it out of git), \(dir)/dev-key.pub.pem, \(dir)/jwks.json (kid \(key.keyId))
            for .env:
              CLERK_DEV_KEY=\(dir)/dev-key.pem
              CLERK_ISSUER=\(devIssuer)
              CLERK_JWT_KEY="\(key.publicPEM.split(separator: "\n").joined(separator: "\\n"))"
            """)
        return 0
    }

    /// `sign-token`: prints a session token signed with a development key.
    public static let signToken = Command(
        name: "sign-token", usage: "--key dev-key.pem --sub user_… [--sid sess_…] [--azp ORIGIN] [--ttl 60] [--iss URL] [--alg RS256]",
        summary: "print a Clerk-shaped session token signed with a development key"
    ) { args, env in
        var o: [String: String] = [:]
        var i = 0
        while i < args.count {
            guard args[i].hasPrefix("--"), i + 1 < args.count else { throw UsageError("unexpected '\(args[i])'") }
            o[String(args[i].dropFirst(2))] = args[i + 1]
            i += 2
        }
        guard let keyPath = o["key"] ?? env["CLERK_DEV_KEY"] else { throw UsageError("--key is required") }
        guard let sub = o["sub"] else { throw UsageError("--sub is required") }
        let key = try loadKey(keyPath)
        let claims = DevelopmentKey.sessionClaims(subject: sub, issuer: o["iss"] ?? env["CLERK_ISSUER"] ?? devIssuer,
                                                  now: Clock.nowSeconds(), ttl: Int64(o["ttl"] ?? "60") ?? 60,
                                                  sessionId: o["sid"], authorizedParty: o["azp"])
        print(try key.sign(payloadJSON: claims, algorithm: o["alg"] ?? "RS256"))
        return 0
    }

    private static func write(_ path: String, _ text: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)
        guard fd >= 0 else { throw FileIOError.cannotOpen(path: path, errno: errno) }
        FileIO.write(fd: fd, text)
        close(fd)
    }
}
