import ClerkKit
import JSON
import LambdaRuntime
import Store

/// What a backfill did, as the one summary line prints it.
public struct BackfillSummary: Sendable {
    /// Users, by what happened to each.
    public var users = BackfillCounts()
    /// Organizations, likewise.
    public var organizations = BackfillCounts()
    /// Memberships, likewise.
    public var memberships = BackfillCounts()
    /// Live local rows that Clerk no longer has (reported, never deleted); known once a pass is complete.
    public var missingInClerk = 0
    /// Whether the run reached the end (a function invocation may stop at its deadline and resume later).
    public var complete = false

    /// `{"users":{…},"organizations":{…},"memberships":{…},"missingInClerk":N,"complete":true}`.
    public var json: String {
        #"{"users":\#(users.json),"organizations":\#(organizations.json),"memberships":\#(memberships.json),"missingInClerk":\#(missingInClerk),"complete":\#(complete)}"#
    }
}

/// Pages through Clerk's users (500 at a time) into PostgreSQL with the webhooks' rules, resumably.
///
/// The run's position is saved with each page, in the page's own transaction: a run killed midway is
/// resumed by the next one, which redoes nothing. Organizations and memberships are not backfilled yet.
public struct Backfill {
    /// What to backfill.
    public enum Kind: String, Sendable, CaseIterable { case users, organizations }

    let api: ClerkBackendAPI
    let store: BackfillStore
    let environment: String
    let logger: Logger
    /// Users per Backend API page (Clerk's maximum is 500).
    public var pageSize = 500

    /// Uses `api` for the instance of `environment` and `connection` for the database.
    public init(api: ClerkBackendAPI, connection: PostgresConnection, environment: String, logger: Logger) {
        self.api = api
        self.store = BackfillStore(connection: connection)
        self.environment = environment
        self.logger = logger
    }

    /// Runs until done or until less than `reserveMs` is left before `deadlineMs`; `progress` hears each page.
    public func run(only: Set<Kind> = Set(Kind.allCases), dryRun: Bool = false, deadlineMs: Int64, reserveMs: Int64 = 2000,
                    progress: (String) -> Void = { _ in }) throws -> BackfillSummary {
        var summary = BackfillSummary()
        var run = try store.openRun(environment: environment)
        summary.users = run.counts["users"] ?? BackfillCounts()
        if run.nextOffset > 0 { progress("resuming at user \(run.nextOffset)") }
        if only.contains(.users) && run.phase == "users" {
            while true {
                guard deadlineMs - Clock.nowMs() > reserveMs else { return summary }
                let page = try api.usersWithJSON(limit: pageSize, offset: run.nextOffset, deadlineMs: deadlineMs)
                if page.isEmpty { break }
                let users = page.map { Self.record($0.user, json: $0.json) }
                let counts = try store.applyUsers(users, run: run, environment: environment, dryRun: dryRun)
                summary.users.add(counts)
                run.nextOffset += page.count
                progress("users: \(run.nextOffset) read, \(summary.users.created) created, \(summary.users.updated) updated, "
                         + "\(summary.users.unchanged) unchanged, \(summary.users.stale) stale")
                if dryRun && page.count == pageSize {
                    // A dry run saves no position: page on in memory.
                    continue
                }
                if page.count < pageSize { break }
                run = try store.openRun(environment: environment)
            }
            summary.missingInClerk = try store.usersMissingInClerk(run: run, environment: environment)
        }
        if only.contains(.organizations) {
            logger.warn("organizations are not backfilled yet", ["environment": .string(environment)])
        }
        summary.complete = true
        if !dryRun { try store.finish(run: run) }
        return summary
    }

    /// The stored form of one listed user (NUL removed: PostgreSQL text cannot hold it).
    static func record(_ user: ClerkUser, json: String) -> BackfillUser {
        func clean(_ s: String?) -> String? { s.map { $0.contains("\u{0}") ? $0.replacingAll("\u{0}", with: "") : $0 } }
        return BackfillUser(clerkUserId: user.id, email: clean(user.primaryEmail), firstName: clean(user.firstName),
                            lastName: clean(user.lastName), username: clean(user.username), imageUrl: clean(user.imageUrl),
                            rawJSON: json.replacingAll("\\u0000", with: ""), createdAtMs: user.createdAt,
                            updatedAtMs: user.updatedAt)
    }
}

/// `backfillClerk`: the backfill as a function (manual invoke; a disabled schedule in `template.yaml`).
/// Each invocation works until shortly before its deadline and answers the summary; the next resumes.
struct BackfillFunction: Handler {
    let database: DatabaseSession
    let config: ClerkAPIConfig

    init(_ ctx: InitContext) throws {
        database = try DatabaseSession(environment: ctx.environment, logger: ctx.logger)
        config = try ClerkAPIConfig(environment: ctx.environment)
        guard !config.secretKeys.isEmpty else {
            throw ConfigError.missing("CLERK_SECRET_KEY", hint: "backfill reads Clerk's Backend API with the instance's secret key")
        }
    }

    func handle(_ event: [UInt8], context: Context) throws -> [UInt8] {
        // {"environment": "production", "only": "users", "dryRun": true}, all optional.
        let request = (try? JSONValue.parse(event)) ?? .null
        let environments = request["environment"]?.stringValue.map { [$0] } ?? config.secretKeys.keys.sorted()
        var only = Set(Backfill.Kind.allCases)
        if let o = request["only"]?.stringValue {
            guard let kind = Backfill.Kind(rawValue: o) else { throw InvalidEventError("only is users or organizations") }
            only = [kind]
        }
        var parts: [String] = []
        for environment in environments {
            guard let api = try config.client(for: environment) else {
                throw InvalidEventError("no secret key is configured for \(environment)")
            }
            let summary = try Backfill(api: api, connection: database.connection, environment: environment, logger: context.logger)
                .run(only: only, dryRun: request["dryRun"]?.boolValue ?? false, deadlineMs: context.deadlineMs)
            context.logger.info("backfill", ["environment": .string(environment), "complete": .bool(summary.complete),
                                             "usersCreated": .int(summary.users.created), "usersUpdated": .int(summary.users.updated)])
            parts.append(JSONText.quoted(environment) + ":" + summary.json)
        }
        return Array(("{" + parts.joined(separator: ",") + "}").utf8)
    }
}
