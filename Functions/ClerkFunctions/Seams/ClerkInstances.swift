import ClerkKit

/// The Clerk instances a backfill may read: the environments with a secret key, and a lists client for each
/// (`ClerkAPIConfig`; scripted ones in the unit tier).
protocol ClerkInstances: Sendable {
    /// The environments with a secret key, sorted.
    var environments: [String] { get }
    /// The lists of `environment`'s instance, nil when no secret key is configured for it.
    func lists(for environment: String) throws -> (any ClerkLists)?
}

extension ClerkAPIConfig: ClerkInstances {
    var environments: [String] { secretKeys.keys.sorted() }

    func lists(for environment: String) throws -> (any ClerkLists)? { try client(for: environment) }
}
