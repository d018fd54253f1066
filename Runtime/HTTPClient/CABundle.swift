#if canImport(Glibc)
    import Glibc
#endif

/// Where the system's CA bundle is: the one list every TLS client of the package uses (libcurl here;
/// rabbitmq-c and librdkafka through the path their callers pass in).
///
/// A library built on Debian looks only in Debian's place, which does not exist on `provided.al2023`:
/// without a path found here every TLS connection made there would fail verification.
public enum CABundle {
    /// Debian and Ubuntu, Amazon Linux and Fedora, Alpine and others, the extracted bundle of RHEL's trust store.
    public static let systemPaths = [
        "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem",
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"
    ]

    /// `explicit` (a configured file, e.g. `SSL_CERT_FILE`) when set, else the first readable system path;
    /// nil when there is none.
    public static func path(explicit: String?) -> String? {
        if let explicit, !explicit.isEmpty { return explicit }
        return systemPaths.first { access($0, R_OK) == 0 }
    }

    /// This process's bundle: `SSL_CERT_FILE` from the process environment, else the first system path found.
    public static let process: String? = path(explicit: getenv("SSL_CERT_FILE").map { String(cString: $0) })
}
