extension KafkaPublisher {
    /// How to reach the cluster (MSK: `SASL_SSL` with SCRAM, or `SSL`).
    public struct Options: Sendable {
        /// `host:port[,host:port…]`.
        public var brokers: String
        /// `PLAINTEXT`, `SSL`, `SASL_SSL` or `SASL_PLAINTEXT`.
        public var securityProtocol: String
        /// `SCRAM-SHA-512`, `SCRAM-SHA-256` or `PLAIN`, with SASL protocols.
        public var saslMechanism: String?
        /// SASL user name.
        public var username: String?
        /// SASL password (never logged, never in an error).
        public var password: String?
        /// PEM CA bundle for TLS (nil: OpenSSL's default paths).
        public var caFile: String?
        /// How long a batch may wait for its delivery reports.
        public var timeoutMs: Int
        /// The client id brokers log.
        public var clientId: String

        /// Options for `brokers`; the rest default to a plain-text cluster and 3 s.
        public init(
            brokers: String, securityProtocol: String = "PLAINTEXT", saslMechanism: String? = nil,
            username: String? = nil, password: String? = nil, caFile: String? = nil,
            timeoutMs: Int = 3000, clientId: String = "clerk-functions"
        ) {
            self.brokers = brokers
            self.securityProtocol = securityProtocol
            self.saslMechanism = saslMechanism
            self.username = username
            self.password = password
            self.caFile = caFile
            self.timeoutMs = timeoutMs
            self.clientId = clientId
        }
    }
}
