import ClerkKit
import LambdaRuntime
import Store

extension Backfill {
    /// Organizations from the run's position on, each with its memberships a page per transaction; false when
    /// the deadline stopped it (the next run resumes at the organization it stopped in, inside its memberships
    /// when it had begun them).
    func organizations(
        _ run: inout BackfillRun, _ summary: inout BackfillSummary, _ limits: Limits,
        progress: (String) -> Void
    ) throws -> Bool {
        let pageSize = max(self.pageSize, 2)
        if run.organizations.offset > 0 { progress("resuming after organization \(run.organizations.offset)") }
        if let inside = run.memberships { progress("resuming inside organization \(inside.clerkOrgId), after member \(inside.cursor.offset)") }
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
            progress(
                "organizations: \(cursor.offset) read, \(summary.organizations.created) created, "
                    + "\(summary.organizations.updated) updated, \(summary.organizations.skipped) skipped; memberships: "
                    + "\(summary.memberships.created) created, \(summary.memberships.updated) updated, "
                    + "\(summary.memberships.stale) stale, \(summary.memberships.skipped) skipped")
            return cursor
        }
        return walked.finished
    }

    /// One organization with its memberships, a page of them per transaction: the organization itself (or,
    /// refused, its set-aside copy) goes with the first page; each page is saved with the memberships position
    /// inside the organization, the last with the organizations position `cursor` past it. A run stopped
    /// inside this organization (`run.memberships`) resumes there. False when the deadline came before its
    /// last page. A refused organization that has an id still has its members listed and applied (they wait,
    /// unlinked, for it).
    func organization(
        _ item: ClerkListItem<ClerkOrganization>, _ run: inout BackfillRun, _ summary: inout BackfillSummary,
        cursor: BackfillCursor, _ limits: Limits
    ) throws -> Bool {
        var skips: [BackfillSkip] = []
        var org: OrganizationRecord?
        let clerkOrgId: String
        switch item {
        case .decoded(let decoded, let json):
            org = OrganizationRecord(decoded, json: json)
            clerkOrgId = decoded.id
        case .refused(let refused):
            skips.append(Self.skip(refused, kind: .organization))
            guard let id = refused.id else {
                // No id, so no memberships to list: set aside, and the position moves past it.
                try applyPage(nil, clerkOrgId: nil, members: [], skips: skips, &run, &summary, cursor: cursor, within: nil, limits)
                return true
            }
            clerkOrgId = id
        }
        let resumed = run.memberships.flatMap { $0.clerkOrgId == clerkOrgId ? $0.cursor : nil }
        if resumed != nil {
            // Applied (or set aside) with its first page, by the invocation that stopped inside it.
            org = nil
            skips = []
        }
        let pageSize = max(self.pageSize, 2)
        let walked = try (resumed ?? BackfillCursor()).walk(pageSize: pageSize, key: { $0.key }, canRead: { limits.timeLeft }) { offset in
            try api.membershipsWithJSON(organizationId: clerkOrgId, limit: pageSize, offset: offset, deadlineMs: limits.deadlineMs)
        } apply: { read, from in
            let to = from.advanced(pastAllOf: read) { $0.key }
            // A page shorter than asked for is the list's end (as `walk` reads it): past the organization.
            let last = read.page.count < pageSize
            let (members, refused) = Self.split(Self.lastCopies(read.fresh.map { read.page[$0] }), kind: .membership) {
                MembershipRecord($0, json: $1)
            }
            try applyPage(
                org, clerkOrgId: clerkOrgId, members: members, skips: skips + refused, &run, &summary,
                cursor: last ? cursor : run.organizations,
                within: last ? nil : BackfillMembershipsPosition(clerkOrgId: clerkOrgId, cursor: to), limits)
            org = nil
            skips = []
            return to
        }
        return walked.finished
    }

    /// One transaction of `organization`, its outcome added to `summary` and `run` (whose positions become
    /// `cursor` and `within`).
    private func applyPage(
        _ org: OrganizationRecord?, clerkOrgId: String?, members: [MembershipRecord], skips: [BackfillSkip],
        _ run: inout BackfillRun, _ summary: inout BackfillSummary, cursor: BackfillCursor,
        within: BackfillMembershipsPosition?, _ limits: Limits
    ) throws {
        let outcome = try store.applyOrganization(
            org, clerkOrgId: clerkOrgId, memberships: members, skipped: skips, run: run,
            cursor: cursor, within: within, environment: environment, dryRun: limits.dryRun)
        summary.organizations.add(outcome.organizations)
        summary.memberships.add(outcome.memberships)
        run.counts["organizations"] = summary.organizations
        run.counts["memberships"] = summary.memberships
        run.organizations = cursor
        run.memberships = within
        log(outcome.setAside)
    }

    /// `items` with a member Clerk offered twice in one page kept once, its last copy in its first place: one
    /// statement must not name a membership twice. (One re-offered on the next page, sharing the anchor's
    /// `created_at`, is applied again there: `unchanged`.)
    static func lastCopies(_ items: [ClerkListItem<ClerkMembership>]) -> [ClerkListItem<ClerkMembership>] {
        var positions: [String: Int] = [:]
        var kept: [ClerkListItem<ClerkMembership>] = []
        for item in items {
            if let at = positions[item.key.id], kept.indices.contains(at) {
                kept[at] = item
            } else {
                positions[item.key.id] = kept.count
                kept.append(item)
            }
        }
        return kept
    }
}
