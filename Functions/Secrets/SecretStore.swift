/// Where referenced secret values are read from: `AWSSecretStore` in a deployment, a fake in tests.
public protocol SecretStore: AnyObject {
    /// The text stored under `ref` (a whole secret; `SecretResolver` picks a JSON field from it). A failure
    /// names `ref.source` and why, never a value.
    func read(_ ref: SecretReference) throws(SecretError) -> String
}
