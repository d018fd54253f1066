import ClerkKit
import JSON

@testable import ClerkFunctions

/// The API Gateway and queue decoders against the strict reader's view of the same bytes
/// (`JSONValue.parseStrict`): what they accept it accepts, and what they read is its members'.
enum EventsStrictView {
    static func object(_ bytes: [UInt8], acceptedBy decoder: String) -> JSONObject {
        guard case .object(let o)? = try? JSONValue.parseStrict(bytes) else {
            fatalError("\(decoder) accepted a document the strict reader refuses (or that is not an object)")
        }
        return o
    }

    /// The member `name`, absent and null both nil.
    static func member(_ o: JSONObject?, _ name: String) -> JSONValue? {
        switch o?[name] {
        case nil, .null?: nil
        case let value?: value
        }
    }

    static func objectMember(_ o: JSONObject?, _ name: String) -> JSONObject? {
        if case .object(let m)? = member(o, name) { return m }
        return nil
    }

    /// An HTTP event: method, path, headers (names lower-cased, repeats joined in the order of their names'
    /// bytes), request id, authorizer context, body and payload version as the strict reader has them.
    static func check(_ request: APIRequest, _ bytes: [UInt8]) {
        let o = object(bytes, acceptedBy: "APIRequest.decode")
        let context = objectMember(o, "requestContext")
        let isV2 = member(o, "version")?.stringValue == "2.0"
        let method =
            isV2
            ? member(objectMember(context, "http"), "method")?.stringValue
            : (member(o, "httpMethod") ?? member(context, "httpMethod"))?.stringValue
        func fail(_ what: String) -> Never { fatalError("APIRequest.\(what) is not the strict reader's") }
        if request.method != method?.uppercased() { fail("method") }
        if request.path != (member(o, isV2 ? "rawPath" : "path")?.stringValue ?? "/") { fail("path") }
        if request.headers != headers(o, isV2: isV2) { fail("headers: \(request.headers) against \(headers(o, isV2: isV2))") }
        if request.requestId != member(context, "requestId")?.stringValue { fail("requestId") }
        var authorizer = objectMember(context, "authorizer") ?? JSONObject()
        if isV2, let lambda = objectMember(authorizer, "lambda") { authorizer = lambda }
        if request.authorizer != authorizer { fail("authorizer") }
        if request.payloadVersion != (isV2 ? "2.0" : "1.0") { fail("payloadVersion") }
        let body = member(o, "body")?.stringValue
        if member(o, "isBase64Encoded")?.boolValue == true {
            if let body, let canonical = strictBase64(body), canonical != request.body { fail("body (base64)") }
        } else if request.body != Array((body ?? "").utf8) {
            fail("body")
        }
    }

    static func headers(_ o: JSONObject, isV2: Bool) -> [String: String] {
        var out: [String: String] = [:]
        let single = objectMember(o, "headers") ?? JSONObject()
        for name in single.names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            guard let value = single[name]?.stringValue else { continue }
            out[name.lowercased()] = out[name.lowercased()].map { $0 + "," + value } ?? value
        }
        guard !isV2, let multi = objectMember(o, "multiValueHeaders") else { return out }
        for name in multi.names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            guard case .array(let values)? = multi[name], !values.isEmpty else { continue }
            out[name.lowercased()] = values.compactMap(\.stringValue).joined(separator: ",")
        }
        return out
    }

    /// A queue batch: SQS records or Amazon MQ messages, each with the strict reader's id, body and headers.
    static func check(_ batch: QueueBatch, _ bytes: [UInt8]) {
        let o = object(bytes, acceptedBy: "QueueEventHandler.batch")
        if case .array(let records)? = member(o, "Records") {
            guard batch.source == .sqs, batch.messages.count == records.count else { fatalError("SQS records miscounted") }
            for (message, record) in zip(batch.messages, records) {
                guard case .object(let r) = record else { fatalError("an SQS record from a non-object") }
                var headers: [String: String] = [:]
                let attributes = objectMember(r, "messageAttributes") ?? JSONObject()
                for name in attributes.names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                    if let value = member(objectMember(attributes, name), "stringValue")?.stringValue { headers[name.lowercased()] = value }
                }
                if message.id != member(r, "messageId")?.stringValue || message.body != Array((member(r, "body")?.stringValue ?? "").utf8)
                    || message.headers != headers || message.refusal != nil
                {
                    fatalError("an SQS message is not the strict reader's record")
                }
            }
            return
        }
        guard let byQueue = objectMember(o, "rmqMessagesByQueue"), batch.source == .rabbitmq else { fatalError("not a batch the strict reader sees") }
        let expected = byQueue.names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).flatMap { queue -> [(String, JSONValue)] in
            guard case .array(let list)? = byQueue[queue] else { fatalError("Amazon MQ messages from a non-list") }
            return list.enumerated().map { ("\(queue)#\($0.offset)", $0.element) }
        }
        guard expected.count == batch.messages.count else { fatalError("Amazon MQ messages miscounted") }
        for (message, (fallbackId, value)) in zip(batch.messages, expected) {
            guard case .object(let m) = value, let data = member(m, "data")?.stringValue else { fatalError("an Amazon MQ message without data") }
            let properties = objectMember(m, "basicProperties")
            if message.id != (member(properties, "messageId")?.stringValue ?? fallbackId) { fatalError("an Amazon MQ message id") }
            if let canonical = strictBase64(data), message.body != canonical || message.refusal != nil { fatalError("an Amazon MQ body") }
            // Data that is not base64 is kept as it came and refused: never an empty body in its place.
            let notBase64 = Base64.decode(data) == nil
            if notBase64 && (message.body != Array(data.utf8) || message.refusal != "data_not_base64") || !notBase64 && message.refusal != nil {
                fatalError("an Amazon MQ body that is not base64 was not kept as it came, refused")
            }
        }
    }

    /// Standard base64 with its padding and zero unused bits (what Amazon MQ writes), decoded; nil otherwise.
    static func strictBase64(_ text: String) -> [UInt8]? {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        let chars = Array(text.utf8)
        guard chars.count % 4 == 0 else { return nil }
        let padding = chars.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        guard padding <= 2 else { return nil }
        var bits: [Int] = []
        for c in chars.dropLast(padding) {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            bits += (0..<6).map { v >> (5 - $0) & 1 }
        }
        let whole = bits.count / 8 * 8
        guard bits[whole...].allSatisfy({ $0 == 0 }), bits.count - whole < 6 else { return nil }
        return stride(from: 0, to: whole, by: 8).map { i in UInt8(bits[i..<(i + 8)].reduce(0) { $0 << 1 | $1 }) }
    }
}
