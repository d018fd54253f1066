import ClerkKit
import LambdaRuntime
import Store

extension Backfill {
    /// Organizations from the run's position on, each with all its memberships in one transaction; false
    /// when the deadline stopped it (the next run resumes at the next organization).
    func organizations(_ run: inout BackfillRun, _ summary: inout BackfillSummary, _ limits: Limits,
                       progress: (String) -> Void) throws -> Bool {
        let pageSize = max(self.pageSize, 2)
        if run.organizations.offset > 0 { progress("resuming after organization \(run.organizations.offset)") }
        let start = run.organizations
        let walked = try start.walk(pageSize: pageSize, key: { $0.key }, canRead: { limits.timeLeft }) { offset in
            try api.organizationsWithJSON(limit: pageSize, offset: offset, deadlineMs: limits.deadlineMs)
        } apply: { read, from in
            var cursor = from
            for index in read.fresh {
                guard limits.timeLeft else { return nil }
                let item = read.page[index]
                let next = cursor.advanced(past: index, of: read, id: item.key.id, createdMs: item.key.createdMs)
                guard try organization(item, &run, &summary, cursor: next, limits) else { return nil }
                cursor = next
                run.organizations = next
            }
            progress("organizations: \(cursor.offset) read, \(summary.organizations.created) created, "
                     + "\(summary.organizations.updated) updated, \(summary.organizations.skipped) skipped; memberships: "
                     + "\(summary.memberships.created) created, \(summary.memberships.updated) updated, "
                     + "\(summary.memberships.stale) stale, \(summary.memberships.skipped) skipped")
            return cursor
        }
        return walked.finished
    }

    /// One organization with all its memberships, applied in one transaction with the run's position
    /// `cursor`; false when its memberships could not be listed before the deadline (the next run resumes
    /// at it). A refused organization is set aside; when it has an id its members are listed and applied all
    /// the same (they wait, unlinked, for it).
    func organization(_ item: ClerkListItem<ClerkOrganization>, _ run: inout BackfillRun, _ summary: inout BackfillSummary,
                      cursor: BackfillCursor, _ limits: Limits) throws -> Bool {
        var skips: [BackfillSkip] = []
        var org: BackfillOrganization?
        let clerkOrgId: String?
        switch item {
        case .decoded(let decoded, let json):
            org = Self.record(decoded, json: json)
            clerkOrgId = decoded.id
        case .refused(let refused):
            skips.append(Self.skip(refused, kind: .organization))
            clerkOrgId = refused.id
        }
        var members: [BackfillMembership] = []
        if let clerkOrgId {
            guard let listed = try memberships(of: clerkOrgId, limits) else { return false }
            let (records, refused) = Self.split(listed, kind: .membership) { Self.record($0, json: $1) }
            members = records
            skips += refused
        }
        let outcome = try store.applyOrganization(org, clerkOrgId: clerkOrgId, memberships: members, skipped: skips, run: run,
                                                  cursor: cursor, environment: environment, dryRun: limits.dryRun)
        summary.organizations.add(outcome.organizations)
        summary.memberships.add(outcome.memberships)
        run.counts["organizations"] = summary.organizations
        run.counts["memberships"] = summary.memberships
        log(outcome.setAside)
        return true
    }

    /// Every membership of `clerkOrgId`, oldest first, each once, paged like the other lists (so a member
    /// Clerk removes between two pages makes none skipped, and an answer that ignores `offset` stops with
    /// `BackfillListUnsettled`); nil when the deadline came first.
    func memberships(of clerkOrgId: String, _ limits: Limits) throws -> [ClerkListItem<ClerkMembership>]? {
        let pageSize = max(self.pageSize, 2)
        var listed: [ClerkListItem<ClerkMembership>] = []
        var positions: [String: Int] = [:]
        let walked = try BackfillCursor().walk(pageSize: pageSize, key: { $0.key }, canRead: { limits.timeLeft }) { offset in
            try api.membershipsWithJSON(organizationId: clerkOrgId, limit: pageSize, offset: offset, deadlineMs: limits.deadlineMs)
        } apply: { read, from in
            for index in read.fresh {
                let item = read.page[index]
                // A member offered again (one sharing the anchor's `created_at`) replaces its first copy: one
                // statement must not name a membership twice.
                if let at = positions[item.key.id], listed.indices.contains(at) {
                    listed[at] = item
                } else {
                    positions[item.key.id] = listed.count
                    listed.append(item)
                }
            }
            return from.advanced(pastAllOf: read) { $0.key }
        }
        return walked.finished ? listed : nil
    }
}
