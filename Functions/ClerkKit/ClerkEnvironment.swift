/// A Clerk instance's kind: every Clerk application has a development and a production instance, and the same
/// Clerk id in the two is two different users (or organizations).
public enum ClerkEnvironment: String, Sendable, CaseIterable, Comparable, Codable {
    /// The live instance (`sk_live_…`, `pk_live_…`).
    case production
    /// The development instance (`sk_test_…`, `pk_test_…`).
    case development

    /// Production first: where a token is looked up first when both instances are configured.
    public static func < (a: ClerkEnvironment, b: ClerkEnvironment) -> Bool { a == .production && b == .development }

    /// The prefix of the variables that configure this instance when a deployment serves both (`PROD_`, `DEV_`).
    public var variablePrefix: String {
        switch self {
        case .production: "PROD_"
        case .development: "DEV_"
        }
    }
}
