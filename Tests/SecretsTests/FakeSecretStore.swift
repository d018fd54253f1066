import LambdaRuntime
import Secrets

/// A `SecretStore` in memory: what it holds can change (rotation) or fail (an outage), and it counts reads.
final class FakeSecretStore: SecretStore {
    /// Text by secret or parameter id.
    var values: [String: String]
    /// When set, every read fails with this reason.
    var outage: String?
    private(set) var reads: [String] = []

    init(_ values: [String: String]) { self.values = values }

    func read(_ ref: SecretReference) throws(SecretError) -> String {
        reads.append(ref.id)
        if let outage { throw SecretError(variable: ref.source, reason: outage) }
        guard let text = values[ref.id] else { throw SecretError(variable: ref.source, reason: "ResourceNotFoundException") }
        return text
    }
}
