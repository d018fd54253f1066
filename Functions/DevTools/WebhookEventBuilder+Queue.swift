import ClerkKit
import FoundationEssentials
import JSON
import LambdaRuntime

extension WebhookEventBuilder {
    /// Re-signs every message of a queue event (SQS `Records[]`, Amazon MQ `rmqMessagesByQueue`) with fresh
    /// Svix headers, as a Svix-to-queue bridge forwards them: SQS string message attributes, AMQP headers
    /// (as the byte arrays Amazon MQ hands over). Nil when `value` is not a queue event.
    static func resignQueueEvent(_ value: JSONValue, signer: WebhookSigner, id: String?, timestamp: Int64) throws -> [UInt8]? {
        guard case .object(var object) = value else { return nil }
        var count = 0
        func headers(for body: [UInt8]) -> [String: String] {
            defer { count += 1 }
            let messageId = (count == 0 ? id : nil) ?? WebhookSigner.newMessageId()
            return signer.headers(id: messageId, timestamp: timestamp, body: body)
        }
        if case .array(let records)? = object["Records"] {
            object["Records"] = .array(
                records.map { record in
                    guard case .object(var r) = record, let body = r["body"]?.stringValue else { return record }
                    var attributes = JSONObject()
                    if case .object(let existing)? = r["messageAttributes"] {
                        for (k, v) in existing where !k.lowercased().hasPrefix("svix-") && !k.lowercased().hasPrefix("webhook-") { attributes[k] = v }
                    }
                    for (k, v) in headers(for: Array(body.utf8)) {
                        attributes[k] = .object(["stringValue": .string(v), "dataType": .string("String")])
                    }
                    r["messageAttributes"] = .object(attributes)
                    return .object(r)
                })
            return Array(JSONValue.object(object).serialized().utf8)
        }
        if case .object(let byQueue)? = object["rmqMessagesByQueue"] {
            var signed = JSONObject()
            for (queue, list) in byQueue.sorted(by: { $0.key < $1.key }) {
                guard case .array(let messages) = list else {
                    signed[queue] = list
                    continue
                }
                signed[queue] = .array(
                    messages.map { message in
                        guard case .object(var m) = message, let data = m["data"]?.stringValue,
                            let body = Data(base64Encoded: data).map(Array.init)
                        else { return message }
                        var properties = JSONObject()
                        if case .object(let p)? = m["basicProperties"] { properties = p }
                        var amqpHeaders = JSONObject()
                        if case .object(let h)? = properties["headers"] {
                            for (k, v) in h where !k.lowercased().hasPrefix("svix-") && !k.lowercased().hasPrefix("webhook-") { amqpHeaders[k] = v }
                        }
                        for (k, v) in headers(for: body) {
                            amqpHeaders[k] = .object(["bytes": .array(v.utf8.map { .number(Double($0)) })])
                        }
                        properties["headers"] = .object(amqpHeaders)
                        m["basicProperties"] = .object(properties)
                        return .object(m)
                    })
            }
            object["rmqMessagesByQueue"] = .object(signed)
            return Array(JSONValue.object(object).serialized().utf8)
        }
        return nil
    }
}
