import JSON
import LambdaRuntime
import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

/// A loopback stand-in for Clerk's Backend API that serves Clerk's documented shapes: users as a bare array
/// from `GET /v1/users`, `{data, total_count}` from organizations and memberships, `limit`/`offset` paging in
/// `order_by=created_at` order (newest first without it, as Clerk), and 429 (with `Retry-After`) or 5xx answers
/// on cue. It checks the bearer secret and the API version header. Tests can also put hostile items in a list
/// (`addRawUser`, `addRawOrganization`, `addRawMembership`), delete items, make lists ignore `offset`, and act
/// between two requests (`beforeAnswer`). Clerk Billing's subscription items list newest first, no `order_by`
/// (`addBillingItem`, `billingEnabled`).
/// It also verifies configured opaque machine tokens on Clerk's three verify endpoints (see `addMachineToken`).
public final class ClerkAPIStandIn: @unchecked Sendable {
    /// The secret key it accepts.
    public let secretKey: String
    /// A machine's secret key (`ak_…`) also accepted on `POST /v1/m2m_tokens/verify`, as Clerk does.
    public var machineSecretKey: String? {
        get { lock.withLock { _machineSecretKey } }
        set { lock.withLock { _machineSecretKey = newValue } }
    }
    private var _machineSecretKey: String?
    private var machineTokens: [String: (kind: MachineTokenKind, json: String)] = [:]
    private let lock = ConditionLock()
    private var users: [String] = []  // UserJSON texts, in creation order
    private var userIds: [String?] = []
    private var userCreated: [Int64] = []
    private var organizations: [(id: String?, json: String, created: Int64)] = []
    private var memberships: [String: [(id: String?, json: String, created: Int64)]] = [:]
    private var membershipsAdded: Int64 = 0
    private var billingItems: [(json: String, created: Int64)] = []
    private var _billingEnabled = true
    private var cues: [(status: Int, retryAfter: String?)] = []
    private var _requests: [LoopbackHTTPServer.Request] = []
    /// The server.
    public private(set) var server: LoopbackHTTPServer!

    /// Starts an empty stand-in.
    public init(secretKey: String = "sk_test_standin") throws {
        self.secretKey = secretKey
        server = try LoopbackHTTPServer { [weak self] request in self?.handle(request) }
    }

    /// `http://127.0.0.1:PORT`, the value for `CLERK_API_URL`.
    public var baseURL: String { server.baseURL }

    /// Milliseconds to wait before each answer (a slow API, for interrupting a run midway).
    public var delayMs: UInt32 {
        get { lock.withLock { _delayMs } }
        set { lock.withLock { _delayMs = newValue } }
    }
    private var _delayMs: UInt32 = 0

    /// Whether the lists answer their first page whatever `offset` asks (a broken API, or a proxy that drops it).
    public var ignoresOffset: Bool {
        get { lock.withLock { _ignoresOffset } }
        set { lock.withLock { _ignoresOffset = newValue } }
    }
    private var _ignoresOffset = false

    /// Runs before each answer (outside the stand-in's lock) with the request's path and query: Clerk changing
    /// between two requests.
    public var beforeAnswer: (@Sendable (String) -> Void)? {
        get { lock.withLock { _beforeAnswer } }
        set { lock.withLock { _beforeAnswer = newValue } }
    }
    private var _beforeAnswer: (@Sendable (String) -> Void)?

    /// Every request so far.
    public var requests: [LoopbackHTTPServer.Request] { lock.withLock { _requests } }

    /// The next answers, before any normal one: e.g. `(429, "1")`, `(503, nil)`.
    public func cue(_ status: Int, retryAfter: String? = nil) { lock.withLock { cues.append((status, retryAfter)) } }

    /// Drops the cued answers not given yet (the outage is over).
    public func clearCues() { lock.withLock { cues.removeAll() } }

    /// Adds a user (UserJSON with the fields this project reads; timestamps in ms).
    public func addUser(
        id: String, email: String?, firstName: String? = "Ada", lastName: String? = "Lovelace",
        username: String? = nil, createdAt: Int64? = nil, updatedAt: Int64 = 1_735_732_800_158
    ) {
        // Users added one after another were created one after another (Clerk lists by `created_at`).
        let createdAt = createdAt ?? lock.withLock { 1_735_732_800_123 - 1_000_000 + Int64(users.count) }
        let emailId = "idn_" + id.dropFirst(5)
        let emails =
            email.map {
                #"[{"id":"\#(emailId)","object":"email_address","email_address":"\#($0)","verification":{"status":"verified"},"linked_to":[]}]"#
            } ?? "[]"
        func text(_ s: String?) -> String { s.map { JSONText.quoted($0) } ?? "null" }
        let json =
            #"{"id":"\#(id)","object":"user","username":\#(text(username)),"first_name":\#(text(firstName)),"last_name":\#(text(lastName)),"image_url":"https://img.clerk.com/\#(id)","has_image":false,"primary_email_address_id":\#(email == nil ? "null" : "\"\(emailId)\""),"email_addresses":\#(emails),"phone_numbers":[],"public_metadata":{},"private_metadata":{},"unsafe_metadata":{},"created_at":\#(createdAt),"updated_at":\#(updatedAt)}"#
        lock.withLock {
            users.append(json)
            userIds.append(id)
            userCreated.append(createdAt)
        }
    }

    /// Adds a user given as raw JSON text (hostile or malformed on purpose), listed by `createdAt`; `id` names it
    /// for `GET /v1/users/{id}` and `removeUser`.
    public func addRawUser(json: String, id: String?, createdAt: Int64) {
        lock.withLock {
            users.append(json)
            userIds.append(id)
            userCreated.append(createdAt)
        }
    }

    /// Removes a user (as a deletion in Clerk would).
    public func removeUser(id: String) {
        lock.withLock {
            if let i = userIds.firstIndex(of: id) {
                userIds.remove(at: i)
                users.remove(at: i)
                userCreated.remove(at: i)
            }
        }
    }

    /// Adds an organization and its memberships (`(membershipId, userId, role)`), the members created one
    /// after another in that order.
    public func addOrganization(
        id: String, name: String, slug: String, members: [(String, String, String)] = [],
        updatedAt: Int64 = 1_735_732_900_000
    ) {
        let createdAt = lock.withLock { 1_735_732_800_000 + Int64(organizations.count) }
        let org = Self.organizationJSON(id: id, name: name, slug: slug, members: members.count, createdAt: createdAt, updatedAt: updatedAt)
        lock.withLock {
            organizations.append((id, org, createdAt))
            memberships[id] = []
        }
        for m in members {
            let created = lock.withLock { () -> Int64 in
                membershipsAdded += 1
                return 1_735_732_800_000 + membershipsAdded
            }
            addRawMembership(
                organizationId: id, id: m.0, createdAt: created,
                json: Self.membershipJSON(
                    id: m.0, userId: m.1, role: m.2, organization: org, createdAt: created, updatedAt: updatedAt))
        }
    }

    /// OrganizationJSON with the fields this project reads.
    public static func organizationJSON(
        id: String, name: String, slug: String, members: Int = 0, createdAt: Int64,
        updatedAt: Int64 = 1_735_732_900_000
    ) -> String {
        #"{"object":"organization","id":"\#(id)","name":\#(JSONText.quoted(name)),"slug":\#(JSONText.quoted(slug)),"image_url":"https://img.clerk.com/\#(id)","has_image":false,"members_count":\#(members),"public_metadata":{"plan":"team"},"private_metadata":{},"created_at":\#(createdAt),"updated_at":\#(updatedAt)}"#
    }

    /// OrganizationMembershipJSON with the fields this project reads (`organization` is its OrganizationJSON).
    public static func membershipJSON(
        id: String, userId: String, role: String, organization: String, createdAt: Int64,
        updatedAt: Int64 = 1_735_732_900_000
    ) -> String {
        #"{"object":"organization_membership","id":"\#(id)","role":"\#(role)","permissions":["org:sys_profile:read"],"public_metadata":{},"created_at":\#(createdAt),"updated_at":\#(updatedAt),"organization":\#(organization),"public_user_data":{"user_id":"\#(userId)","identifier":"x","first_name":null,"last_name":null,"image_url":"","has_image":false}}"#
    }

    /// Adds an organization given as raw JSON text (hostile or malformed on purpose), listed by `createdAt`;
    /// `id` (nil: none) is the key its memberships are listed under.
    public func addRawOrganization(json: String, id: String?, createdAt: Int64) {
        lock.withLock {
            organizations.append((id, json, createdAt))
            if let id, memberships[id] == nil { memberships[id] = [] }
        }
    }

    /// Adds a membership to organization `organizationId` given as raw JSON text, listed by `createdAt`.
    public func addRawMembership(organizationId: String, id: String?, createdAt: Int64, json: String) {
        lock.withLock { memberships[organizationId, default: []].append((id, json, createdAt)) }
    }

    /// Removes an organization and its memberships (as a deletion in Clerk would).
    public func removeOrganization(id: String) {
        lock.withLock {
            organizations.removeAll { $0.id == id }
            memberships[id] = nil
        }
    }

    /// Removes a membership (as a member leaving, or removed, in Clerk would).
    public func removeMembership(id: String) {
        lock.withLock {
            for key in memberships.keys { memberships[key]?.removeAll { $0.id == id } }
        }
    }

    /// Whether the instance has Clerk Billing: without it `GET /v1/billing/subscription_items` answers 404.
    public var billingEnabled: Bool {
        get { lock.withLock { _billingEnabled } }
        set { lock.withLock { _billingEnabled = newValue } }
    }

    /// Adds a Clerk Billing subscription item (`CommerceSubscriptionItem`, timestamps in ms) paid for by a user
    /// (`userId`) or an organization (`orgId`); listed newest `createdAt` first, as Clerk lists them.
    public func addBillingItem(
        id: String, status: String, userId: String? = nil, orgId: String? = nil, planSlug: String, amount: Int64 = 2000,
        periodStart: Int64 = 1_735_732_800_000, periodEnd: Int64? = 1_738_411_200_000, createdAt: Int64,
        updatedAt: Int64 = 1_735_732_900_000
    ) {
        func text(_ s: String?) -> String { s.map { JSONText.quoted($0) } ?? "null" }
        let payer =
            #"{"object":"commerce_payer","id":"cpayer_\#(id)","instance_id":"ins_1","user_id":\#(text(userId)),"organization_id":\#(text(orgId)),"created_at":1,"updated_at":1}"#
        let plan =
            #"{"object":"commerce_plan","id":"cplan_\#(planSlug)","name":\#(text(planSlug.uppercased())),"slug":\#(text(planSlug)),"fee":{"amount":\#(amount),"amount_formatted":"20.00","currency":"USD","currency_symbol":"$"},"is_default":false}"#
        let json =
            #"{"object":"commerce_subscription_item","id":"\#(id)","instance_id":"ins_1","status":"\#(status)","plan_id":"cplan_\#(planSlug)","plan":\#(plan),"plan_period":"month","payer_id":"cpayer_\#(id)","payer":\#(payer),"is_free_trial":false,"period_start":\#(periodStart),"period_end":\#(periodEnd.map { String($0) } ?? "null"),"canceled_at":null,"past_due_at":null,"ended_at":null,"created_at":\#(createdAt),"updated_at":\#(updatedAt)}"#
        addRawBillingItem(json: json, createdAt: createdAt)
    }

    /// Adds a Clerk Billing subscription item given as raw JSON text (hostile or malformed on purpose).
    public func addRawBillingItem(json: String, createdAt: Int64) { lock.withLock { billingItems.append((json, createdAt)) } }

    /// The kinds of opaque machine token, each with its verify endpoint.
    public enum MachineTokenKind: Sendable {
        /// `POST /v1/api_keys/verify {"secret": …}` → APIKeyJSON.
        case apiKey
        /// `POST /v1/m2m_tokens/verify {"token": …}` → M2MTokenJSON.
        case m2m
        /// `POST /v1/oauth_applications/access_tokens/verify {"access_token": …}` → the OAuth access token JSON.
        case oauth

        var path: String {
            switch self {
            case .apiKey: "/v1/api_keys/verify"
            case .m2m: "/v1/m2m_tokens/verify"
            case .oauth: "/v1/oauth_applications/access_tokens/verify"
            }
        }
        var field: String {
            switch self {
            case .apiKey: "secret"
            case .m2m: "token"
            case .oauth: "access_token"
            }
        }
    }

    /// Makes `token` known to its verify endpoint, answering Clerk's JSON for it (`claims` is raw JSON,
    /// `expiration` epoch ms). A token it does not know gets 404, as at Clerk.
    public func addMachineToken(
        _ kind: MachineTokenKind, token: String, subject: String, scopes: [String] = [],
        claims: String = "null", clientId: String? = nil, revoked: Bool = false, expired: Bool = false,
        expiration: Int64? = nil
    ) {
        let scopeList = "[" + scopes.map { JSONText.quoted($0) }.joined(separator: ",") + "]"
        let exp = expiration.map { String($0) } ?? "null"
        let reason = revoked ? JSONText.quoted("revoked by test") : "null"
        let n = lock.withLock { machineTokens.count }
        let common =
            #""subject":\#(JSONText.quoted(subject)),"scopes":\#(scopeList),"revoked":\#(revoked),"revocation_reason":\#(reason),"expired":\#(expired),"expiration":\#(exp),"created_at":1735732800000,"updated_at":1735732800000"#
        let json: String
        switch kind {
        case .apiKey:
            json =
                #"{"object":"api_key","id":"ak_id_\#(n)","type":"api_key","name":"test key","claims":\#(claims),"created_by":null,"last_used_at":null,\#(common)}"#
        case .m2m:
            json = #"{"object":"machine_to_machine_token","id":"mt_id_\#(n)","claims":\#(claims),\#(common)}"#
        case .oauth:
            json =
                #"{"object":"clerk_idp_oauth_access_token","id":"oat_id_\#(n)","client_id":\#(JSONText.quoted(clientId ?? "client_test")),"type":"oauth:access_token",\#(common)}"#
        }
        lock.withLock { machineTokens[token] = (kind, json) }
    }

    /// Forgets a machine token (Clerk then answers 404).
    public func removeMachineToken(_ token: String) { lock.withLock { machineTokens[token] = nil } }

    /// Verify calls received on the three machine-token endpoints.
    public var machineVerifyCalls: Int { requests.filter { $0.method == "POST" && $0.path.hasSuffix("/verify") }.count }

    private func handle(_ request: LoopbackHTTPServer.Request) -> LoopbackHTTPServer.Response {
        let (cue, delay, hook): ((status: Int, retryAfter: String?)?, UInt32, (@Sendable (String) -> Void)?) = lock.withLock {
            _requests.append(request)
            return (cues.isEmpty ? nil : cues.removeFirst(), _delayMs, _beforeAnswer)
        }
        if delay > 0 { usleep(delay * 1000) }
        hook?(request.path)
        if let cue {
            var headers = [("Content-Type", "application/json")]
            if let r = cue.retryAfter { headers.append(("Retry-After", r)) }
            return LoopbackHTTPServer.Response(
                status: cue.status, headers: headers,
                body: Array(#"{"errors":[{"code":"cued"}]}"#.utf8))
        }
        let machineKey = lock.withLock { _machineSecretKey }
        let m2mWithMachineKey =
            request.path == MachineTokenKind.m2m.path && machineKey != nil
            && request.header("authorization") == "Bearer " + (machineKey ?? "")
        guard request.header("authorization") == "Bearer " + secretKey || m2mWithMachineKey else {
            return .json(401, #"{"errors":[{"code":"authentication_invalid","message":"Invalid authentication"}]}"#)
        }
        guard request.header("clerk-api-version") != nil else { return .json(400, #"{"errors":[{"code":"api_version_missing"}]}"#) }
        let (path, query) = Self.split(request.path)
        let limit = min(max(Int(query["limit"] ?? "") ?? 10, 1), 500)
        let asked = max(Int(query["offset"] ?? "") ?? 0, 0)
        return lock.withLock { () -> LoopbackHTTPServer.Response in
            let offset = _ignoresOffset ? 0 : asked
            let parts = path.split(separator: "/").map(String.init)
            switch (request.method, parts.count) {
            case ("POST", _) where [MachineTokenKind.apiKey, .m2m, .oauth].contains(where: { $0.path == path }):
                let kind = [MachineTokenKind.apiKey, .m2m, .oauth].first { $0.path == path } ?? .apiKey
                guard let body = try? JSONValue.parse(request.body), let token = body[kind.field]?.stringValue else {
                    return .json(400, #"{"errors":[{"code":"form_param_missing"}]}"#)
                }
                guard let found = machineTokens[token], found.kind == kind else {
                    return .json(404, #"{"errors":[{"code":"resource_not_found"}]}"#)
                }
                return .json(200, found.json)
            case ("GET", 2) where parts == ["v1", "users"]:
                let order = Self.order(userCreated, by: query["order_by"])
                let page = order.dropFirst(offset).prefix(limit).map { users[$0] }
                return .json(200, "[" + page.joined(separator: ",") + "]")
            case ("GET", 3) where parts[0] == "v1" && parts[1] == "users":
                guard let i = userIds.firstIndex(of: Optional(parts[2])) else {
                    return .json(404, #"{"errors":[{"code":"resource_not_found"}]}"#)
                }
                return .json(200, users[i])
            case ("GET", 2) where parts == ["v1", "organizations"]:
                let order = Self.order(organizations.map(\.created), by: query["order_by"])
                let page = order.dropFirst(offset).prefix(limit).map { organizations[$0].json }
                return .json(200, #"{"data":[\#(page.joined(separator: ","))],"total_count":\#(organizations.count)}"#)
            case ("GET", 4) where parts[0] == "v1" && parts[1] == "organizations" && parts[3] == "memberships":
                guard let all = memberships[parts[2]] else { return .json(404, #"{"errors":[{"code":"resource_not_found"}]}"#) }
                let order = Self.order(all.map(\.created), by: query["order_by"])
                let page = order.dropFirst(offset).prefix(limit).map { all[$0].json }
                return .json(200, #"{"data":[\#(page.joined(separator: ","))],"total_count":\#(all.count)}"#)
            case ("GET", 3) where parts == ["v1", "billing", "subscription_items"]:
                guard _billingEnabled else { return .json(404, #"{"errors":[{"code":"resource_not_found"}]}"#) }
                // No `order_by`: newest first, always.
                let order = Self.order(billingItems.map(\.created), by: nil)
                let page = order.dropFirst(offset).prefix(limit).map { billingItems[$0].json }
                return .json(200, #"{"data":[\#(page.joined(separator: ","))],"total_count":\#(billingItems.count)}"#)
            default:
                return .json(404, #"{"errors":[{"code":"resource_not_found"}]}"#)
            }
        }
    }

    /// Positions in `created` as Clerk lists them for `order_by` (`+created_at`/`created_at` oldest first;
    /// `-created_at`, Clerk's default, newest first); ties keep their order of creation.
    static func order(_ created: [Int64], by orderBy: String?) -> [Int] {
        let ascending = orderBy == "%2Bcreated_at" || orderBy == "+created_at" || orderBy == "created_at"
        return created.indices.sorted { a, b in
            created[a] == created[b] ? a < b : (ascending ? created[a] < created[b] : created[a] > created[b])
        }
    }

    static func split(_ target: String) -> (String, [String: String]) {
        guard let q = target.firstIndex(of: "?") else { return (target, [:]) }
        var query: [String: String] = [:]
        for pair in target[target.index(after: q)...].split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { query[String(kv[0])] = String(kv[1]) }
        }
        return (String(target[..<q]), query)
    }
}
