import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The Lambda custom-runtime host: init, then `next` → handler → `response`/`error` → work after the
/// response, forever.
public enum LambdaHost {
    /// Runs the function named by `_HANDLER` against `AWS_LAMBDA_RUNTIME_API`, started as `setup` says;
    /// returns the exit code once the Runtime API is gone or init failed (the caller exits with it; Lambda
    /// restarts the process).
    public static func run(registry: FunctionRegistry, environment env: Environment, setup: LambdaSetup) -> Int32 {
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
            return initFailed(
                client, logger,
                InitError(
                    errorType: "Runtime.UnknownHandler",
                    errorMessage: "no function named '\(name)' (set _HANDLER to one of: \(known))"))
        }
        let identity = FunctionIdentity(environment: env, defaultName: name)
        let handler: any Handler
        do {
            let options = try setup.metricsOptions(env)
            Metrics.shared.configure(options, function: identity.name)
            handler = try setup.makeHandler(env, logger) { [logger] in
                try function.makeHandler(InitContext(environment: $0, logger: logger))
            }
        } catch {
            let reported = error as? LambdaReportableError
            return initFailed(
                client, logger,
                InitError(
                    errorType: reported?.errorType ?? "Runtime.InitError",
                    errorMessage: reported?.errorMessage ?? String(describing: error)))
        }
        let upkeep = handler as? any UpkeepHandler
        do {
            try serve(
                handler: handler, client: client, identity: identity, logger: logger,
                betweenInvocations: { upkeep?.betweenInvocations() })
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
    /// `betweenInvocations` runs after that work, still before the GET (an `UpkeepHandler`'s upkeep), so a
    /// caller never waits for it. Metrics go to `metrics`, each line with its invocation's request id.
    public static func serve(
        handler: any Handler, client: any RuntimeAPIClient, identity: FunctionIdentity,
        logger: Logger, maxInvocations: Int = .max, metrics: Metrics = .shared,
        betweenInvocations: () -> Void = {}
    ) throws(RuntimeAPIError) {
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
            let context = Context(
                requestId: inv.requestId, deadlineMs: inv.deadlineMs, invokedFunctionArn: inv.invokedFunctionArn,
                traceId: inv.traceId, clientContext: inv.clientContext, cognitoIdentity: inv.cognitoIdentity,
                function: identity, logger: requestLogger, pendingWork: pending, metrics: metrics)
            if served == 1 { context.metrics.count("ColdStart") }
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

    private static func post(
        _ outcome: Result<[UInt8], any Error>, for inv: Invocation, client: any RuntimeAPIClient,
        logger: Logger
    ) throws(RuntimeAPIError) {
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
                _ = try client.postError(
                    requestId: inv.requestId,
                    error: LambdaErrorObject(
                        errorType: "Function.ResponseSizeTooLarge",
                        errorMessage: "response of \(result.count) bytes exceeds the Runtime API's limit"))
            default:
                logger.warn("Runtime API refused the response", ["status": .int(status)])
            }
        }
    }
}
