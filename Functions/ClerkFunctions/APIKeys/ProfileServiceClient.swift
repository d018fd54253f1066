import ClerkKit
import HTTPClient
import JSON
import LambdaRuntime

/// What the profile service made of a delivery.
enum ProfileDelivery {
    /// 2xx: it has the key.
    case accepted
    /// 4xx: it will never take this request; retrying would not help.
    case rejected(status: Int)
}

/// The profile service failed in a way a retry may fix (network, timeout, 5xx).
struct ProfileServiceUnavailable: Error, CustomStringConvertible {
    let description: String
    /// The service answered (5xx): it is done with the request. Otherwise (timeout, network) it may still
    /// be storing the key.
    var answered = false
}

/// Where a new user's API key goes (the profile service over HTTP; a recording fake in unit tests).
protocol ProfileDelivering: Sendable {
    /// How long the key's lease must last for a delivery with `remainingMs` left.
    func leaseMs(remainingMs: Int64) -> Int
    /// Sends the profile and key; throws `ProfileServiceUnavailable` when a retry may help.
    func deliver(_ body: ProfileServiceClient.Body, remainingMs: Int64, metrics: InvocationMetrics) throws -> ProfileDelivery
}

/// `POST PROFILE_SERVICE_URL` with the user's profile and their new API key, over libcurl.
final class ProfileServiceClient: ProfileDelivering, @unchecked Sendable {
    let url: String
    private let bearer: String?
    private let timeoutMs: Int
    private var http: HTTPClient?

    /// Reads `PROFILE_SERVICE_URL`, `PROFILE_SERVICE_API_KEY`, `PROFILE_SERVICE_TIMEOUT_MS`; nil when unconfigured.
    init?(settings: Settings) throws(ConfigError) {
        guard let url = settings["PROFILE_SERVICE_URL"] else { return nil }
        self.url = url
        bearer = settings["PROFILE_SERVICE_API_KEY"]
        timeoutMs = try settings.milliseconds("PROFILE_SERVICE_TIMEOUT_MS", default: 5000)
    }

    struct Body: Encodable {
        var clerk_user_id: String
        var environment: String
        var email: String?
        var first_name: String?
        var last_name: String?
        var username: String?
        var image_url: String?
        var api_key: String
    }

    /// The longest a delivery with `remainingMs` left can keep the profile service busy, plus a margin
    /// for recording the outcome: how long the key's lease must last.
    func leaseMs(remainingMs: Int64) -> Int {
        Int(max(min(Int64(timeoutMs), remainingMs - 1000), 0) + 5000)
    }

    /// Sends the profile; the timeouts fit in what is left of the invocation.
    func deliver(_ body: Body, remainingMs: Int64, metrics sink: InvocationMetrics) throws -> ProfileDelivery {
        let budget = min(Int64(timeoutMs), remainingMs - 1000)
        guard budget >= 300 else { throw ProfileServiceUnavailable(description: "no time left in the invocation") }
        let json = try JSONCoding.encoder.encode(body)
        if http == nil { http = try HTTPClient() }
        var headers = ["Content-Type: application/json"]
        if let bearer { headers.append("Authorization: Bearer \(bearer)") }
        let response: HTTPResponse
        let started = Clock.monotonicNs()
        // Latency of every call; ProfileServiceFailure by kind: timeout, transport, 4xx, 5xx.
        func record(_ failure: String?) {
            var metrics: [(name: String, value: Double, unit: MetricUnit)] = [
                ("ProfileServiceLatency", Double(Clock.monotonicNs() - started) / 1_000_000, .milliseconds)
            ]
            if failure != nil { metrics.append(("ProfileServiceFailure", 1, .count)) }
            sink.emit(metrics, dimensions: [("outcome", failure ?? "accepted")])
        }
        do {
            response = try http!.send(
                method: "POST", url: url, headers: headers, body: json, timeoutMs: Int(budget),
                connectTimeoutMs: Int(min(budget / 2, 2000)), maxResponseBytes: 64 << 10)
        } catch {
            http = nil  // a broken connection is not reused
            record(error.isTimeout ? "timeout" : "transport")
            throw ProfileServiceUnavailable(description: error.isTimeout ? "timed out" : error.message)
        }
        switch response.status {
        case 200..<300:
            record(nil)
            return .accepted
        case 400..<500:
            record("4xx")
            return .rejected(status: response.status)
        default:
            record("5xx")
            throw ProfileServiceUnavailable(description: "answered HTTP \(response.status)", answered: true)
        }
    }
}
