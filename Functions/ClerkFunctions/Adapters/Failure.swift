import ClerkKit
import JSON

/// Why a request was not served, with the status that tells the caller (Svix, a queue, a person) what to do:
/// 4xx never succeeds on retry, 5xx may. The raw value is the code in answers, logs and metrics.
public enum FailureCode: String, Sendable, Encodable, CaseIterable {
    case malformedRequest = "malformed_request"
    case missingHeaders = "missing_headers"
    case invalidTimestamp = "invalid_timestamp"
    case malformedJSON = "malformed_json"
    case signatureMismatch = "signature_mismatch"
    case timestampTooOld = "timestamp_too_old"
    case timestampTooNew = "timestamp_too_new"
    case payloadTooLarge = "payload_too_large"
    case apiKeyConflict = "api_key_conflict"
    case profileServiceUnavailable = "profile_service_unavailable"
    case databaseUnavailable = "database_unavailable"
    case internalError = "internal_error"

    /// The HTTP status this failure is answered with.
    public var status: Int {
        switch self {
        case .malformedRequest, .missingHeaders, .invalidTimestamp, .malformedJSON: 400
        case .signatureMismatch, .timestampTooOld, .timestampTooNew: 401
        case .payloadTooLarge: 413
        case .apiKeyConflict: 409
        case .profileServiceUnavailable: 502
        case .databaseUnavailable: 503
        case .internalError: 500
        }
    }

    /// Whether the same request may succeed later (so a queue keeps the message, and Svix's retry is welcome).
    public var isRetryable: Bool { status >= 500 || self == .apiKeyConflict }

    /// The code for a failed Svix check.
    public init(_ error: WebhookVerificationError) {
        switch error {
        case .missingHeaders: self = .missingHeaders
        case .invalidTimestamp: self = .invalidTimestamp
        case .timestampTooOld: self = .timestampTooOld
        case .timestampTooNew: self = .timestampTooNew
        case .noMatchingSignature: self = .signatureMismatch
        }
    }
}

/// A request not served: its code decides the status; the message is for a person.
public struct Failure: Error, HTTPAnswer, Equatable {
    /// Why.
    public var code: FailureCode
    /// What happened, without a secret, token, signature or body.
    public var message: String

    /// A failure with its code and message.
    public init(_ code: FailureCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var status: Int { code.status }
    public var body: ErrorBody { ErrorBody(error: code.rawValue, message: message) }
}
