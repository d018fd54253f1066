import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The Lambda custom-runtime host: init, then `next` → handler → `response`/`error` → work after the
/// response, forever.
public enum LambdaHost {
    /// Runs the function named by `_HANDLER` against `AWS_LAMBDA_RUNTIME_API`; returns the exit code
    /// once the Runtime API is gone or init failed (the caller exits with it; Lambda restarts the process).
    public static func run(registry: FunctionRegistry, environment env: Environment) -> Int32 {
        var logger = Logger(environment: env)
        guard let endpoint = env["AWS_LAMBDA_RUNTIME_API"] else {
            logger.error("AWS_LAMBDA_RUNTIME_API is not set")
            return 1
        }
        signal(SIGPIPE, SIG_IGN)
        let client: CurlRuntimeAPIClient
        do {
            client = try CurlRuntimeAPIClient(endpoint: endpoint)
        } catch {
            logger.error("cannot use the Runtime API", ["reason": .string(error.description)])
            return 1
        }
        let name = env["_HANDLER"] ?? ""
        logger[metadataKey: "function"] = .string(name)
        guard let function = registry[name] else {
            let known = registry.functions.map(\.name).joined(separator: ", ")
            return initFailed(client, logger, InitError(
                errorType: "Runtime.UnknownHandler",
                errorMessage: "no function named '\(name)' (set _HANDLER to one of: \(known))"))
        }
        let identity = FunctionIdentity(environment: env, defaultName: name)
        var handler: any Handler
        var refreshing: RefreshingHandler?
        do {
            try Metrics.shared.configure(environment: env, function: identity.name)
            // Secrets first: `<NAME>_SECRET_ARN` / `<NAME>_PARAMETER` become `<NAME>`, and the function reads
            // its configuration from the filled-in environment as it always does.
            let resolver = try SecretResolver(environment: env)
            let resolved = resolver.isEmpty ? env : try resolver.resolve()
            if !resolver.isEmpty {
                logger.info("secrets read", ["variables": .string(resolver.references.map(\.variable).joined(separator: ","))])
            }
            let make: (Environment) throws -> any Handler = { try function.makeHandler(InitContext(environment: $0, logger: logger)) }
            handler = try make(resolved)
            if !resolver.isEmpty {
                let r = RefreshingHandler(handler: handler, values: resolved, resolver: resolver, logger: logger, rebuild: make)
                refreshing = r
                handler = r
            }
        } catch {
            let reported = error as? LambdaReportableError
            return initFailed(client, logger, InitError(
                errorType: reported?.errorType ?? "Runtime.InitError",
                errorMessage: reported?.errorMessage ?? String(describing: error)))
        }
        do {
            try serve(handler: handler, client: client, identity: identity, logger: logger,
                      betweenInvocations: { refreshing?.refreshIfDue() })
        } catch {
            logger.error("leaving the invocation loop", ["reason": .string(error.description)])
            return 1
        }
        return 0
    }

    private static func initFailed(_ client: any RuntimeAPIClient, _ logger: Logger, _ error: InitError) -> Int32 {
        logger.error("init failed", ["errorType": .string(error.errorType), "reason": .string(error.errorMessage)])
        do {
            _ = try client.postInitError(LambdaErrorObject(error))
        } catch {
            logger.error("could not report the init error", ["reason": .string(error.description)])
        }
        return 1
    }

    /// The invocation loop. Returns after `maxInvocations` (tests, benchmarks); throws when the Runtime API
    /// is lost or answers 500, which ends the process.
    ///
    /// An invocation ends with the next `GET /next`: work a function scheduled with
    /// `Context.afterResponse` runs after its answer is posted and before that GET.
    ///
    /// `betweenInvocations` runs after that work, still before the GET: secrets are refreshed there, so a
    /// caller never waits for it.
    public static func serve(handler: any Handler, client: any RuntimeAPIClient, identity: FunctionIdentity,
                             logger: Logger, maxInvocations: Int = .max,
                             betweenInvocations: () -> Void = {}) throws(RuntimeAPIError) {
        var served = 0
        let traceEnvironment = TraceIdEnvironment()
        let pending = PendingWork()
        // One logger for the process: only its request id changes, in place (no copy while no context holds it).
        var requestLogger = logger
        while served < maxInvocations {
            let inv = try client.next()
            served += 1
            traceEnvironment.set(inv.traceId)
            requestLogger[metadataKey: "requestId"] = .string(inv.requestId)
            Metrics.shared.setRequestId(inv.requestId)
            if served == 1 { Metrics.shared.count("ColdStart") }
            let context = Context(
                requestId: inv.requestId, deadlineMs: inv.deadlineMs, invokedFunctionArn: inv.invokedFunctionArn,
                traceId: inv.traceId, clientContext: inv.clientContext, cognitoIdentity: inv.cognitoIdentity,
                function: identity, logger: requestLogger, pendingWork: pending)
            let outcome: Result<[UInt8], any Error>
            do {
                outcome = .success(try handler.handle(inv.event, context: context))
            } catch {
                outcome = .failure(error)
            }
            try post(outcome, for: inv, client: client, logger: requestLogger)
            pending.runAll()
            betweenInvocations()
        }
    }

    private static func post(_ outcome: Result<[UInt8], any Error>, for inv: Invocation, client: any RuntimeAPIClient,
                             logger: Logger) throws(RuntimeAPIError) {
        switch outcome {
        case .failure(let error):
            let object = LambdaErrorObject(error)
            logger.error("invocation failed", ["errorType": .string(object.errorType)])
            let status = try client.postError(requestId: inv.requestId, error: object)
            if status != 202 {
                logger.warn("Runtime API refused the error report", ["status": .int(status)])
            }
        case .success(let result):
            let status = try client.postResponse(requestId: inv.requestId, body: result)
            switch status {
            case 202:
                break
            case 413:
                // Lambda already tells the caller Function.ResponseSizeTooLarge; say so in our log, try to
                // record it as the invocation's error (may be refused with 403), and serve the next event.
                logger.error("response too large for the Runtime API", ["bytes": .int(result.count)])
                _ = try client.postError(requestId: inv.requestId, error: LambdaErrorObject(
                    errorType: "Function.ResponseSizeTooLarge",
                    errorMessage: "response of \(result.count) bytes exceeds the Runtime API's limit"))
            default:
                logger.warn("Runtime API refused the response", ["status": .int(status)])
            }
        }
    }
}
