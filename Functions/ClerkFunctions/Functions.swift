import JSON
import LambdaRuntime

/// Every function this package deploys, by the name used as the SAM `Handler`.
public enum Functions {
    /// Registered but never deployed: `echo` exists for the runtime's tests and benchmarks.
    public static let internalOnly: Set<String> = ["echo"]

    /// The registry the executable serves.
    public static let registry = FunctionRegistry([
        FunctionRegistry.echo,
        LambdaFunction(
            name: "health", summary: "GET /health: 200 when PostgreSQL answers, 503 with the error class when not.",
            accepts: ["API Gateway HTTP API v2", "REST API proxy", "Function URL", "any JSON"]
        ) { try HealthFunction($0) },
        onUserCreated, onUserUpdated, onUserDeleted, onOrganizationEvent, onBillingEvent, clerkWebhook, verifyToken, me, publishOutbox,
        LambdaFunction(
            name: "backfillClerk",
            summary:
                "Backfills users, organizations and memberships from Clerk's Backend API with the webhooks' rules; resumes where the last run stopped.",
            accepts: ["{\"environment\"?, \"only\"?: \"users\" | \"organizations\", \"dryRun\"?}", "Scheduled (EventBridge)"]
        ) { try BackfillFunction($0) }
    ])
}
