import ArgumentParser
import ClerkFunctions
import ClerkKit
import DevTools
import LambdaRuntime
import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

/// Development keys and tokens: `dev-keys`, `sign-token` and `invoke --mint-token`.
enum TokenTools {
    /// The issuer development tokens carry unless told otherwise.
    static let devIssuer = "https://clerk.dev.localhost"

    /// The `kid` of a development key: derived from its public key, so every tool agrees without a side file.
    static func keyId(publicPEM: String) -> String {
        "ins_dev_" + String(Base64.encode(Crypto.sha256(Array(publicPEM.utf8)).array, url: true).prefix(20))
    }

    /// Loads a development private key from a PEM file.
    static func loadKey(_ path: String) throws -> DevelopmentKey {
        let pem = try FileIO.readText(path)
        let probe = try DevelopmentKey(pem: pem, keyId: "probe")
        return try DevelopmentKey(pem: pem, keyId: keyId(publicPEM: probe.publicPEM))
    }

    /// Replaces every `DEV_SESSION_TOKEN` (or `DEV_SESSION_TOKEN:user_id`) in `event` with a fresh token.
    static func mint(into event: [UInt8], key: DevelopmentKey, issuer: String, defaultSubject: String) throws -> [UInt8] {
        let marker = Array("DEV_SESSION_TOKEN".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < event.count {
            if event[i] == marker[0], i + marker.count <= event.count, Array(event[i..<(i + marker.count)]) == marker {
                i += marker.count
                var subject = defaultSubject
                if i < event.count, event[i] == UInt8(ascii: ":") {
                    var j = i + 1
                    while j < event.count,
                        event[j] == UInt8(ascii: "_") || (event[j] >= 0x30 && event[j] <= 0x39)
                            || (event[j] | 0x20 >= 0x61 && event[j] | 0x20 <= 0x7A)
                    { j += 1 }
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
    static func mintConfigured(into event: [UInt8], env: Environment) throws -> [UInt8] {
        guard let path = env["CLERK_DEV_KEY"] else {
            throw ConfigError.missing("CLERK_DEV_KEY", hint: "run `clerk-functions dev-keys` and point CLERK_DEV_KEY at dev-key.pem")
        }
        return try mint(
            into: event, key: loadKey(path), issuer: env["CLERK_ISSUER"] ?? devIssuer,
            defaultSubject: env["CLERK_DEV_SUBJECT"] ?? "user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF")
    }

    static func write(_ path: String, _ text: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)
        guard fd >= 0 else { throw FileIOError.cannotOpen(path: path, errno: errno) }
        FileIO.write(fd: fd, text)
        close(fd)
    }
}

/// `dev-keys`: writes a development key pair and its JWKS.
struct DevKeys: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-keys",
        abstract: "Write DIR/dev-key.pem (private), dev-key.pub.pem and jwks.json for local tokens.")

    @Option(help: "The folder to write to.")
    var dir = "."

    func run() throws {
        mkdir(dir, 0o755)
        let probe = try DevelopmentKey()
        let key = try DevelopmentKey(pem: probe.privatePEM, keyId: TokenTools.keyId(publicPEM: probe.publicPEM))
        try TokenTools.write(dir + "/dev-key.pem", key.privatePEM, mode: 0o600)
        try TokenTools.write(dir + "/dev-key.pub.pem", key.publicPEM, mode: 0o644)
        try TokenTools.write(dir + "/jwks.json", key.jwks() + "\n", mode: 0o644)
        print(
            """
            wrote \(dir)/dev-key.pem (private: keep it out of git), \(dir)/dev-key.pub.pem, \(dir)/jwks.json (kid \(key.keyId))
            for .env:
              CLERK_DEV_KEY=\(dir)/dev-key.pem
              CLERK_ISSUER=\(TokenTools.devIssuer)
              CLERK_JWT_KEY="\(key.publicPEM.split(separator: "\n").joined(separator: "\\n"))"
            """)
    }
}

/// `sign-token`: prints a session token signed with a development key.
struct SignToken: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-token",
        abstract: "Print a Clerk-shaped session token (or, with --m2m / --oauth, a JWT machine token) signed with a development key.")

    @Option(help: "The development private key (PEM); default: CLERK_DEV_KEY.")
    var key: String?
    @Option(help: "The subject, a Clerk user id (user_…).")
    var sub: String
    @Option(help: "The session id (sess_…).")
    var sid: String?
    @Option(help: "The authorized party (an origin).")
    var azp: String?
    @Option(help: "Seconds until it expires.")
    var ttl: Int64 = 60
    @Option(help: "The issuer; default: CLERK_ISSUER or the development issuer.")
    var iss: String?
    @Option(help: "RS256, RS384 or RS512.")
    var alg = "RS256"
    @Flag(help: "A JWT M2M token instead (--sub mch_…; Clerk's machine category header).")
    var m2m = false
    @Flag(help: "A JWT OAuth access token instead (typ at+jwt; --sub user_…).")
    var oauth = false
    @Option(help: "Machine tokens: comma-separated scopes.")
    var scopes: String?
    @Option(help: "OAuth access tokens: the client id.")
    var clientId = "client_dev"

    func validate() throws {
        guard (1...31_536_000).contains(ttl) else { throw ValidationError("--ttl is 1 second to a year") }
        guard !(m2m && oauth) else { throw ValidationError("--m2m and --oauth exclude each other") }
        if m2m && !sub.hasPrefix("mch_") { throw ValidationError("an M2M token's --sub is a machine id (mch_…)") }
        if !(m2m || oauth) && scopes != nil { throw ValidationError("--scopes is for --m2m or --oauth tokens") }
    }

    func run() throws {
        let env = CLI.environment
        guard let keyPath = key ?? env["CLERK_DEV_KEY"] else { throw ValidationError("--key is required (or CLERK_DEV_KEY)") }
        let devKey = try TokenTools.loadKey(keyPath)
        let issuer = iss ?? env["CLERK_ISSUER"] ?? TokenTools.devIssuer
        if m2m || oauth {
            let list = (scopes ?? "").split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
            let claims = DevelopmentKey.machineClaims(
                subject: sub, issuer: issuer, now: Clock.nowSeconds(), ttl: ttl, scopes: list,
                clientId: oauth ? clientId : nil)
            let header = m2m ? devKey.m2mHeader(algorithm: alg) : devKey.accessTokenHeader(algorithm: alg)
            print(try devKey.sign(payloadJSON: claims, algorithm: alg, header: header))
            return
        }
        let claims = DevelopmentKey.sessionClaims(
            subject: sub, issuer: iss ?? env["CLERK_ISSUER"] ?? TokenTools.devIssuer,
            now: Clock.nowSeconds(), ttl: ttl, sessionId: sid, authorizedParty: azp)
        print(try devKey.sign(payloadJSON: claims, algorithm: alg))
    }
}
