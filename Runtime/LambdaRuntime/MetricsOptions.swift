/// How the host writes metrics, as the application configures them: on or off, and under which CloudWatch
/// namespace.
public struct MetricsOptions: Sendable, Equatable {
    /// Whether EMF lines are written at all.
    public var enabled: Bool
    /// The CloudWatch namespace every line names.
    public var namespace: String

    /// Metrics off (the harness, tests, and an application that gives none).
    public static let off = MetricsOptions(unchecked: false, namespace: "")

    /// Options with `namespace` checked; throws the reason it cannot be a CloudWatch namespace.
    public init(enabled: Bool, namespace: String) throws(MetricsNamespaceError) {
        if let reason = Self.namespaceProblem(namespace) { throw MetricsNamespaceError(reason: reason) }
        self.init(unchecked: enabled, namespace: namespace)
    }

    private init(unchecked enabled: Bool, namespace: String) {
        self.enabled = enabled
        self.namespace = namespace
    }

    /// Why `namespace` is not one CloudWatch accepts, or nil: anything outside its alphabet would make
    /// CloudWatch drop every line silently.
    public static func namespaceProblem(_ namespace: String) -> String? {
        guard !namespace.isEmpty, namespace.count <= 255, !namespace.hasPrefix("AWS/"),
            namespace.unicodeScalars.allSatisfy({
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || ".-_/#: ".unicodeScalars.contains($0)
            })
        else {
            return "letters, digits and . - _ / # : space, up to 255, not AWS/"
        }
        return nil
    }
}

/// A metrics namespace CloudWatch would refuse; the application names its variable in the init error.
public struct MetricsNamespaceError: Error, Equatable {
    /// What a namespace must be.
    public var reason: String
}
