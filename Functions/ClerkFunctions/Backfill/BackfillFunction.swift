import ClerkKit
import JSON
import LambdaRuntime
import Store

/// `backfillClerk`: the backfill as a function (manual invoke; a disabled schedule in `template.yaml`).
/// Each invocation works until shortly before its deadline and answers the summary; the next resumes.
struct BackfillFunction: Handler {
    let instances: any ClerkInstances
    let runs: any BackfillRunStore

    init(_ ctx: InitContext) throws {
        let database = try DatabaseSession(environment: ctx.environment, logger: ctx.logger)
        self.init(instances: try Self.clerkConfig(ctx.environment), runs: PostgresBackfillRuns(connection: database.connection))
    }

    /// Backfills the instances of `instances` into `runs`.
    init(instances: any ClerkInstances, runs: any BackfillRunStore) {
        self.instances = instances
        self.runs = runs
    }

    /// The Backend API's configuration; an init error when no instance has a secret key.
    static func clerkConfig(_ environment: Environment) throws -> ClerkAPIConfig {
        let config = try ClerkAPIConfig(environment: environment)
        guard !config.secretKeys.isEmpty else {
            throw ConfigError.missing("CLERK_SECRET_KEY", hint: "backfill reads Clerk's Backend API with the instance's secret key")
        }
        return config
    }

    func handle(_ event: [UInt8], context: Context) throws -> [UInt8] {
        // {"environment": "production", "only": "users", "dryRun": true}, all optional.
        let request = (try? JSONValue.parse(event)) ?? .null
        let environments = request["environment"]?.stringValue.map { [$0] } ?? instances.environments
        var only = Set(Backfill.Kind.allCases)
        if let o = request["only"]?.stringValue {
            guard let kind = Backfill.Kind(rawValue: o) else { throw InvalidEventError("only is users, organizations or billing") }
            only = [kind]
        }
        var answer: [String: BackfillSummary] = [:]
        for environment in environments {
            guard let lists = try instances.lists(for: environment) else {
                throw InvalidEventError("no secret key is configured for \(environment)")
            }
            let summary = try Backfill(lists: lists, store: runs, environment: environment, logger: context.logger)
                .run(only: only, dryRun: request["dryRun"]?.boolValue ?? false, deadlineMs: context.deadlineMs)
            let skipped = summary.users.skipped + summary.organizations.skipped + summary.memberships.skipped + summary.billing.skipped
            context.logger.info(
                "backfill",
                [
                    "environment": .string(environment), "complete": .bool(summary.complete),
                    "usersCreated": .int(summary.users.created), "usersUpdated": .int(summary.users.updated),
                    "skipped": .int(skipped)
                ])
            answer[environment] = summary
            // Progress of this invocation's share of the run; BackfillComplete is 1 once the pass reached the end.
            context.metrics.emit(
                [
                    ("BackfillUsersWritten", Double(summary.users.created + summary.users.updated), .count),
                    ("BackfillOrganizationsWritten", Double(summary.organizations.created + summary.organizations.updated), .count),
                    ("BackfillMembershipsWritten", Double(summary.memberships.created + summary.memberships.updated), .count),
                    ("BackfillBillingItemsWritten", Double(summary.billing.updated), .count),
                    ("BackfillItemsSkipped", Double(skipped), .count),
                    ("BackfillComplete", summary.complete ? 1 : 0, .none)
                ], dimensions: [("environment", (ClerkEnvironment(rawValue: environment) ?? .production).rawValue)])
        }
        return try JSONCoding.encoder.encode(answer)
    }
}
