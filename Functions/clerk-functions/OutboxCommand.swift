import ArgumentParser
import ClerkFunctions
import LambdaRuntime
import Store

/// `outbox`: operations on the transactional outbox.
struct OutboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox", abstract: "Operate the transactional outbox in DATABASE_URL.", subcommands: [OutboxRequeueCommand.self])
}

/// `outbox requeue`: set-aside rows back in the outbox, each key's final state kept right.
struct OutboxRequeueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requeue",
        abstract: "Put rows a broker refused for good back in the outbox, once the cause is fixed.",
        discussion: """
            A row with no later published row of its key goes back where it stands; otherwise it goes to the end of \
            the outbox with its key's later rows (published ones written again), in their order, so consumers end in \
            each key's last state. Waits for a running relay batch; publishOutbox sends the rows on its next run. \
            Prints one JSON line: rows requeued, resent and moved, by queue.
            """)

    @Option(help: "Only this queue, or its Kafka topic (with KAFKA_TOPIC_PREFIX): user-events, api-key-mappings, organization-events.")
    var topic: String?

    @Option(
        help: "Only rows set aside since then: a duration back from now (90m, 2h, 7d) or an ISO-8601 time with its offset (2025-06-01T08:30:00Z).")
    var since: String?

    func validate() throws {
        do {
            if let topic { _ = try OutboxRequeue.queue(topic: topic, prefix: CLI.environment["KAFKA_TOPIC_PREFIX"] ?? "") }
            if let since { _ = try OutboxRequeue.since(since) }
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() throws {
        let env = CLI.environment
        let config = try DatabaseConfig(environment: env)
        let connection = try PostgresConnection(url: config.url, password: config.password, connectTimeoutSeconds: config.connectTimeoutSeconds)
        print(try OutboxRequeue.run(connection, topic: topic, since: since, topicPrefix: env["KAFKA_TOPIC_PREFIX"] ?? ""))
    }
}
