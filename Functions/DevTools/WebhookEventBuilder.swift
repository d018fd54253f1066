import ClerkKit
import FoundationEssentials
import JSON
import LambdaRuntime

/// Builds and re-signs webhook request events, for the `sign-webhook` tool, `invoke --sign` and tests.
public enum WebhookEventBuilder {
    /// An API Gateway HTTP API v2 event (`POST /webhooks/clerk` unless `path` says otherwise) carrying
    /// `body` byte for byte, with `headers` added to the usual ones.
    public static func httpEvent(body: [UInt8], headers: [String: String], path: String = "/webhooks/clerk") -> [UInt8] {
        var all: JSONObject = [
            "content-type": .string("application/json"),
            "user-agent": .string("Svix-Webhooks/1.62.0 (sender-1a2b3c; +https://www.svix.com/http-sender/)"),
            "host": .string("abc123.execute-api.us-east-1.amazonaws.com")
        ]
        for (k, v) in headers { all[k.lowercased()] = .string(v) }
        let now = Clock.nowMs()
        let event: JSONValue = .object([
            "version": .string("2.0"),
            "routeKey": .string("POST \(path)"),
            "rawPath": .string(path),
            "rawQueryString": .string(""),
            "headers": .object(all),
            "requestContext": .object([
                "accountId": .string("123456789012"), "apiId": .string("abc123"),
                "domainName": .string("abc123.execute-api.us-east-1.amazonaws.com"),
                "http": .object([
                    "method": .string("POST"), "path": .string(path), "protocol": .string("HTTP/1.1"),
                    "sourceIp": .string("44.228.126.217"), "userAgent": .string("Svix-Webhooks/1.62.0")
                ]),
                "requestId": .string(Context.makeRequestId()), "routeKey": .string("POST \(path)"),
                "stage": .string("$default"), "timeEpoch": .number(Double(now))
            ]),
            "body": .string(String(decoding: body, as: UTF8.self)),
            "isBase64Encoded": .bool(false)
        ])
        return Array(event.serialized().utf8)
    }

    /// Re-signs an HTTP event (v2, Function URL or REST) or every message of a queue event (SQS, Amazon
    /// MQ) with fresh Svix headers, or wraps a bare Clerk
    /// payload (`{"type":…,"data":…}`) in an HTTP API v2 event first.
    public static func resign(_ event: [UInt8], signer: WebhookSigner, id: String? = nil, timestamp: Int64? = nil) throws -> [UInt8] {
        let value = try JSONValue.parse(event)
        let messageId = id ?? WebhookSigner.newMessageId()
        let ts = timestamp ?? Clock.nowSeconds()
        if let queued = try resignQueueEvent(value, signer: signer, id: id, timestamp: ts) { return queued }
        guard value["version"] != nil || value["httpMethod"] != nil || value["requestContext"] != nil else {
            return httpEvent(body: event, headers: signer.headers(id: messageId, timestamp: ts, body: event))
        }
        guard case .object(var object) = value else { throw InvalidEventError("event is not a JSON object") }
        let body = try httpBody(object)
        var headers = JSONObject()
        if case .object(let h)? = object["headers"] {
            for (k, v) in h where !k.lowercased().hasPrefix("svix-") && !k.lowercased().hasPrefix("webhook-") { headers[k] = v }
        }
        for (k, v) in signer.headers(id: messageId, timestamp: ts, body: body) { headers[k] = .string(v) }
        object["headers"] = .object(headers)
        object["multiValueHeaders"] = nil
        return Array(JSONValue.object(object).serialized().utf8)
    }

    /// The body an HTTP event carries, as API Gateway gives it: text, or base64 when `isBase64Encoded`.
    static func httpBody(_ event: JSONObject) throws -> [UInt8] {
        guard let text = event["body"]?.stringValue else { return [] }
        guard event["isBase64Encoded"]?.boolValue == true else { return Array(text.utf8) }
        guard let bytes = Base64.decode(text) else { throw InvalidEventError("body is not base64") }
        return bytes
    }
}
