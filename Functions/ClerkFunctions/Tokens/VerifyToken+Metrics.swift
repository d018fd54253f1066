import LambdaRuntime

extension VerifyTokenFunction {
    /// Checks a token and counts what is refused: `TokenRefused` by reason (the closed set of reason codes
    /// the log lines use), `TokenCheckUnavailable` when the check itself could not be made.
    func check(_ token: String?, shape: String, log: Logger, metrics: InvocationMetrics) -> Outcome {
        let outcome = checkUncounted(token, shape: shape, log: log)
        switch outcome {
        case .allowed, .allowedMachine: break
        case .denied(let reason): metrics.count("TokenRefused", dimensions: [("reason", reason)])
        case .unavailable(let reason): metrics.count("TokenCheckUnavailable", dimensions: [("reason", reason)])
        }
        return outcome
    }
}
