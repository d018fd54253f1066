import ClerkKit
import LambdaRuntime

/// Which token types `verifyToken` accepts and how machine tokens are checked, from the environment.
///
/// `CLERK_ACCEPTS_TOKEN`: a comma list of `session_token` (the default alone), `api_key`, `m2m_token`,
/// `oauth_token`, or `any`; an unknown name is an init error. Opaque machine tokens need a secret key:
/// the instances' (`CLERK_SECRET_KEY`, `PROD_`/`DEV_CLERK_SECRET_KEY`), and for M2M tokens
/// `CLERK_MACHINE_SECRET_KEY` when set (its environment is `CLERK_ENVIRONMENT`, default `production`).
/// `CLERK_MACHINE_TOKEN_CACHE_TTL` (60 s), `CLERK_MACHINE_TOKEN_NEGATIVE_TTL` (10 s),
/// `CLERK_MACHINE_TOKEN_TIMEOUT_MS` (3000), `CLERK_MACHINE_TOKEN_LOOKUPS_PER_SECOND` (10),
/// `CLERK_MACHINE_TOKEN_MAX_CONCURRENT_LOOKUPS` (4) and `CLERK_REQUIRED_SCOPES` (a comma list) tune the
/// checks; any other `CLERK_MACHINE_TOKEN_…` name is taken for a misspelling and is an init error.
struct MachineTokenConfig: Sendable {
    /// The accepted types.
    let accepted: Set<ClerkTokenType>
    /// Scopes every machine token must carry.
    let requiredScopes: [String]
    /// The machine-token verifier; nil when only session tokens are accepted.
    let verifier: MachineTokenVerifier?

    /// The `CLERK_MACHINE_TOKEN_…` settings (a setting's `_SECRET_ARN`/`_PARAMETER` reference aside).
    static let settings: Set<String> = [
        "CLERK_MACHINE_TOKEN_CACHE_TTL", "CLERK_MACHINE_TOKEN_NEGATIVE_TTL", "CLERK_MACHINE_TOKEN_TIMEOUT_MS",
        "CLERK_MACHINE_TOKEN_LOOKUPS_PER_SECOND", "CLERK_MACHINE_TOKEN_MAX_CONCURRENT_LOOKUPS"
    ]

    init(environment env: Environment, api: ClerkAPIConfig, keys: TokenVerifier) throws {
        try Self.checkNames(env)
        accepted = try Self.acceptedTypes(env["CLERK_ACCEPTS_TOKEN"])
        requiredScopes = Self.list(env["CLERK_REQUIRED_SCOPES"])
        let machineTypes = accepted.subtracting([.sessionToken])
        guard !machineTypes.isEmpty else {
            verifier = nil
            return
        }
        var instances: [MachineTokenVerifier.Client] = []
        // Production first: a token unknown there is asked of development (a 404 moves on).
        for environment in ClerkEnvironment.allCases.sorted().map(\.rawValue) + api.secretKeys.keys.sorted()
        where !instances.contains(where: { $0.environment == environment }) {
            guard let client = try api.client(for: environment) else { continue }
            instances.append(.init(environment: environment, api: client))
        }
        var machine: MachineTokenVerifier.Client?
        if let key = env["CLERK_MACHINE_SECRET_KEY"] {
            machine = .init(
                environment: try Settings(env).clerkEnvironment().rawValue,
                api: try ClerkBackendAPI(baseURL: api.baseURL, secretKey: key))
        }
        // Opaque tokens are the common form and can only be checked at Clerk: accepting a type without a key
        // that can verify it would refuse every such caller, so it is refused at init instead.
        if instances.isEmpty && !(machineTypes == [.m2mToken] && machine != nil) {
            throw ConfigError.missing(
                "CLERK_SECRET_KEY",
                hint:
                    "CLERK_ACCEPTS_TOKEN names machine tokens, which Clerk's Backend API verifies: set CLERK_SECRET_KEY (or PROD_/DEV_CLERK_SECRET_KEY)\(machineTypes == [.m2mToken] ? " or CLERK_MACHINE_SECRET_KEY" : "")"
            )
        }
        verifier = MachineTokenVerifier(
            instances: instances, machine: machine, jwtVerifier: keys,
            cacheTTLSeconds: try Self.whole(env, "CLERK_MACHINE_TOKEN_CACHE_TTL", default: 60),
            negativeTTLSeconds: try Self.whole(env, "CLERK_MACHINE_TOKEN_NEGATIVE_TTL", default: 10),
            callBudgetMs: try Self.whole(env, "CLERK_MACHINE_TOKEN_TIMEOUT_MS", default: 3000),
            lookupsPerSecond: try Self.whole(
                env, "CLERK_MACHINE_TOKEN_LOOKUPS_PER_SECOND",
                default: MachineTokenVerifier.defaultLookupsPerSecond, in: 1...10_000),
            maxConcurrentLookups: try Self.whole(
                env, "CLERK_MACHINE_TOKEN_MAX_CONCURRENT_LOOKUPS",
                default: MachineTokenVerifier.defaultMaxConcurrentLookups, in: 1...256))
    }

    /// A `CLERK_MACHINE_TOKEN_…` variable that is none of the settings would be silently ignored: a typo
    /// in a limit must not leave the default in force unnoticed.
    static func checkNames(_ env: Environment) throws {
        for name in env.values.keys.sorted() where name.hasPrefix("CLERK_MACHINE_TOKEN_") && !settings.contains(name) {
            var base = Substring(name)
            for suffix in ["_SECRET_ARN", "_PARAMETER"] where base.hasSuffix(suffix) { base = base.dropLast(suffix.count) }
            if settings.contains(String(base)) { continue }
            throw ConfigError.invalid(name, why: "not a setting; the machine-token settings are \(settings.sorted().joined(separator: ", "))")
        }
    }

    /// Parses `CLERK_ACCEPTS_TOKEN`.
    static func acceptedTypes(_ text: String?) throws -> Set<ClerkTokenType> {
        guard let text else { return [.sessionToken] }
        var types: Set<ClerkTokenType> = []
        for name in list(text) {
            if name == "any" {
                types.formUnion(ClerkTokenType.allCases)
            } else if let type = ClerkTokenType(rawValue: name) {
                types.insert(type)
            } else {
                throw ConfigError.invalid("CLERK_ACCEPTS_TOKEN", why: "a comma list of session_token, api_key, m2m_token, oauth_token or any")
            }
        }
        guard !types.isEmpty else {
            throw ConfigError.invalid("CLERK_ACCEPTS_TOKEN", why: "a comma list of session_token, api_key, m2m_token, oauth_token or any")
        }
        return types
    }

    private static func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
    }

    private static func whole(_ env: Environment, _ name: String, default value: Int, in range: ClosedRange<Int> = 0...Int.max) throws -> Int {
        guard let text = env[name] else { return value }
        guard let v = Int(text), range.contains(v) else {
            throw ConfigError.invalid(
                name,
                why: range.upperBound == .max
                    ? "a whole number is expected"
                    : "a whole number from \(range.lowerBound) to \(range.upperBound) is expected")
        }
        return v
    }
}
