import HTTPClient
import JSON
import LambdaRuntime
import Messaging
import Store

#if canImport(Glibc)
    import Glibc
#endif

extension OutboxRelay {
    /// The destinations the environment configures: RabbitMQ with `RABBITMQ_URL`, Kafka with `KAFKA_BROKERS`.
    static func destinations(_ env: Environment) throws -> [OutboxDestination] {
        var all: [OutboxDestination] = []
        if let url = env["RABBITMQ_URL"], !url.isEmpty {
            all.append(
                RabbitMQDestination(
                    url: url, timeoutMs: try Self.milliseconds(env, "RABBITMQ_TIMEOUT_MS"),
                    caFile: CABundle.path(explicit: env["RABBITMQ_CA_FILE"])))
        }
        if let brokers = env["KAFKA_BROKERS"], !brokers.isEmpty {
            all.append(try kafkaDestination(env, brokers: brokers))
        }
        return all
    }

    static func milliseconds(_ env: Environment, _ name: String) throws -> Int {
        try Settings(env).milliseconds(name, default: 3000)
    }

    private static func kafkaDestination(_ env: Environment, brokers: String) throws -> KafkaDestination {
        let security = (env["KAFKA_SECURITY_PROTOCOL"] ?? "PLAINTEXT").uppercased()
        guard ["PLAINTEXT", "SSL", "SASL_SSL", "SASL_PLAINTEXT"].contains(security) else {
            throw ConfigError.invalid("KAFKA_SECURITY_PROTOCOL", why: "PLAINTEXT, SSL, SASL_SSL or SASL_PLAINTEXT")
        }
        var options = KafkaPublisher.Options(
            brokers: brokers, securityProtocol: security,
            timeoutMs: try milliseconds(env, "KAFKA_TIMEOUT_MS"))
        if security.hasPrefix("SASL") {
            let mechanism = (env["KAFKA_SASL_MECHANISM"] ?? "SCRAM-SHA-512").uppercased()
            guard ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"].contains(mechanism) else {
                throw ConfigError.invalid("KAFKA_SASL_MECHANISM", why: "SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN")
            }
            guard let user = env["KAFKA_USERNAME"], let password = env["KAFKA_PASSWORD"] else {
                throw ConfigError.missing("KAFKA_USERNAME", hint: "\(security) needs KAFKA_USERNAME and KAFKA_PASSWORD")
            }
            options.saslMechanism = mechanism
            options.username = user
            options.password = password
        }
        if security.hasSuffix("SSL") {
            options.caFile = CABundle.path(explicit: env["KAFKA_CA_FILE"] ?? env["SSL_CERT_FILE"])
        }
        do {
            return try KafkaDestination(options: options, topicPrefix: env["KAFKA_TOPIC_PREFIX"] ?? "")
        } catch {
            throw ConfigError.invalid("KAFKA_BROKERS", why: "\(error)")
        }
    }
}
