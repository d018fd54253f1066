/// How a Clerk event reached the functions; kept with a rejected delivery and in log lines.
enum DeliverySource: String, Sendable {
    /// Svix, over HTTP (API Gateway or a Function URL).
    case webhook
    /// An SQS queue (Svix's or an application's forwarder).
    case sqs
    /// Amazon MQ for RabbitMQ.
    case rabbitmq
}
