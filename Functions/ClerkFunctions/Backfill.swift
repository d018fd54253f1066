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

/// Pages through Clerk's users (500 at a time), then its organizations (500 at a time) and each one's
/// memberships, into PostgreSQL with the webhooks' rules, resumably.
///
/// The run's position is saved with each page of users and with each organization (with all its
/// memberships), in that work's own transaction: a run killed midway is resumed by the next one, which
/// redoes nothing. The position is the last item applied, not only an offset (`BackfillCursor`), so items
/// Clerk deletes in between do not make the next read skip others.
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
        summary.organizations = run.counts["organizations"] ?? BackfillCounts()
        summary.memberships = run.counts["memberships"] ?? BackfillCounts()
        let pageSize = max(self.pageSize, 2)
        if run.users.offset > 0 { progress("resuming after user \(run.users.offset)") }
        if only.contains(.users) && run.phase == "users" {
            var cursor = run.users
            while true {
                guard deadlineMs - Clock.nowMs() > reserveMs else { return summary }
                let read = try cursor.read(pageSize: pageSize, key: Self.key) { offset in
                    try api.usersWithJSON(limit: pageSize, offset: offset, deadlineMs: deadlineMs)
                }
                let next = cursor.advanced(pastAllOf: read, key: Self.key)
                if next != cursor {
                    let users = read.fresh.map { Self.record(read.page[$0].user, json: read.page[$0].json) }
                    let counts = try store.applyUsers(users, run: run, cursor: next, environment: environment, dryRun: dryRun)
                    summary.users.add(counts)
                    // A dry run saves nothing: it pages on from its cursor in memory.
                    if !dryRun {
                        // Another process may have finished this pass meanwhile: stop, rather than carry this
                        // position into the next pass (which would start it midway).
                        guard let reloaded = try store.reload(run) else {
                            progress("another backfill finished this pass")
                            return summary
                        }
                        run = reloaded
                    }
                    cursor = next
                }
                progress("users: \(cursor.offset) read, \(summary.users.created) created, \(summary.users.updated) updated, "
                         + "\(summary.users.unchanged) unchanged, \(summary.users.stale) stale")
                if read.page.count < pageSize { break }
            }
            // A resumed run starts at the organizations.
            if !dryRun { try store.setPhase("organizations", run: run) }
        }
        if only.contains(.organizations) {
            guard try organizations(&run, &summary, dryRun: dryRun, deadlineMs: deadlineMs, reserveMs: reserveMs,
                                    progress: progress) else { return summary }
            summary.missingInClerk += try store.organizationsMissingInClerk(run: run, environment: environment)
        }
        if only.contains(.users) { summary.missingInClerk += try store.usersMissingInClerk(run: run, environment: environment) }
        summary.complete = true
        if !dryRun { try store.finish(run: run) }
        return summary
    }

    /// Organizations from the run's position on, each with all its memberships in one transaction; false
    /// when the deadline stopped it (the next run resumes at the next organization).
    func organizations(_ run: inout BackfillRun, _ summary: inout BackfillSummary, dryRun: Bool, deadlineMs: Int64,
                       reserveMs: Int64, progress: (String) -> Void) throws -> Bool {
        let pageSize = max(self.pageSize, 2)
        if run.organizations.offset > 0 { progress("resuming after organization \(run.organizations.offset)") }
        var cursor = run.organizations
        while true {
            guard deadlineMs - Clock.nowMs() > reserveMs else { return false }
            let read = try cursor.read(pageSize: pageSize, key: Self.key) { offset in
                try api.organizationsWithJSON(limit: pageSize, offset: offset, deadlineMs: deadlineMs).organizations
            }
            for index in read.fresh {
                let (org, json) = read.page[index]
                guard deadlineMs - Clock.nowMs() > reserveMs else { return false }
                var members: [BackfillMembership] = []
                while true {
                    // An organization whose members cannot be listed in this invocation resumes at it next time.
                    guard deadlineMs - Clock.nowMs() > reserveMs else { return false }
                    let list = try api.memberships(organizationId: org.id, limit: pageSize, offset: members.count, deadlineMs: deadlineMs)
                    members += list.data.map(Self.record)
                    if list.data.isEmpty || list.data.count < pageSize || members.count >= list.totalCount { break }
                }
                let next = cursor.advanced(past: index, of: read, id: org.id, createdMs: org.createdAt)
                let counts = try store.applyOrganization(Self.record(org, json: json), memberships: members, run: run,
                                                         cursor: next, environment: environment, dryRun: dryRun)
                summary.organizations.add(counts.organizations)
                summary.memberships.add(counts.memberships)
                run.counts["organizations"] = summary.organizations
                run.counts["memberships"] = summary.memberships
                cursor = next
                run.organizations = next
            }
            progress("organizations: \(cursor.offset) read, \(summary.organizations.created) created, "
                     + "\(summary.organizations.updated) updated; memberships: \(summary.memberships.created) created, "
                     + "\(summary.memberships.updated) updated, \(summary.memberships.stale) stale")
            if read.page.count < pageSize { return true }
        }
    }

    /// A listed user's place in Clerk's order.
    static func key(_ item: (user: ClerkUser, json: String)) -> (id: String, createdMs: Int64?) { (item.user.id, item.user.createdAt) }

    /// A listed organization's place in Clerk's order.
    static func key(_ item: (organization: ClerkOrganization, json: String)) -> (id: String, createdMs: Int64?) {
        (item.organization.id, item.organization.createdAt)
    }

    /// The stored form of one listed organization (NUL removed).
    static func record(_ org: ClerkOrganization, json: String) -> BackfillOrganization {
        BackfillOrganization(clerkOrgId: org.id, name: clean(org.name), slug: clean(org.slug), imageUrl: clean(org.imageUrl),
                             publicMetadataJSON: cleanJSON(org.publicMetadataJSON), rawJSON: cleanJSON(json),
                             createdAtMs: org.createdAt, updatedAtMs: org.updatedAt)
    }

    /// The stored form of one listed membership (NUL removed).
    static func record(_ m: ClerkMembership) -> BackfillMembership {
        BackfillMembership(clerkMembershipId: m.id, clerkUserId: m.userId, role: clean(m.role),
                           permissions: m.permissions.map { clean($0) ?? "" }, createdAtMs: m.createdAt, updatedAtMs: m.updatedAt)
    }

    /// The stored form of one listed user (NUL removed: PostgreSQL text cannot hold it).
    static func record(_ user: ClerkUser, json: String) -> BackfillUser {
        BackfillUser(clerkUserId: user.id, email: clean(user.primaryEmail), firstName: clean(user.firstName),
                     lastName: clean(user.lastName), username: clean(user.username), imageUrl: clean(user.imageUrl),
                     rawJSON: cleanJSON(json), createdAtMs: user.createdAt, updatedAtMs: user.updatedAt)
    }

    static func clean(_ s: String?) -> String? { s.map { PostgresText.removingNUL($0).text } }

    /// JSON without NUL, as the webhooks store it: an escaped backslash before `u0000` stays text (a plain
    /// replace of `\u0000` would eat that backslash and leave JSON PostgreSQL refuses, on every run).
    static func cleanJSON(_ json: String) -> String {
        let (bytes, removed) = PostgresText.removingNUL(fromJSON: Array(json.utf8))
        return removed == 0 ? json : String(decoding: bytes, as: UTF8.self)
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
            // Progress of this invocation's share of the run; BackfillComplete is 1 once the pass reached the end.
            Metrics.shared.emit([
                ("BackfillUsersWritten", Double(summary.users.created + summary.users.updated), .count),
                ("BackfillOrganizationsWritten", Double(summary.organizations.created + summary.organizations.updated), .count),
                ("BackfillMembershipsWritten", Double(summary.memberships.created + summary.memberships.updated), .count),
                ("BackfillComplete", summary.complete ? 1 : 0, .none),
            ], dimensions: [("environment", environment == "development" ? "development" : "production")])
        }
        return Array(("{" + parts.joined(separator: ",") + "}").utf8)
    }
}
