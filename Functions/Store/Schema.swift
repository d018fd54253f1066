/// The database schema, as versioned migrations. Append; never edit a released one.
public enum Schema {
    /// Every migration, in order.
    public static let migrations: [Migration] = [
        Migration(
            version: 1, name: "users",
            sql: """
                CREATE TABLE users (
                    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                    clerk_user_id text NOT NULL,
                    environment text NOT NULL,
                    email text,
                    first_name text,
                    last_name text,
                    username text,
                    image_url text,
                    raw_payload jsonb,
                    clerk_created_at timestamptz,
                    clerk_updated_at timestamptz,
                    deleted_at timestamptz,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    updated_at timestamptz NOT NULL DEFAULT now(),
                    CONSTRAINT users_clerk_user_id_environment_key UNIQUE (clerk_user_id, environment)
                );
                CREATE INDEX users_email_idx ON users (lower(email)) WHERE email IS NOT NULL;
                """),
        Migration(
            version: 2, name: "subscriptions and usage",
            sql: """
                CREATE TABLE subscriptions (
                    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                    user_id uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
                    tier text NOT NULL DEFAULT 'free',
                    status text NOT NULL DEFAULT 'active',
                    created_at timestamptz NOT NULL DEFAULT now(),
                    updated_at timestamptz NOT NULL DEFAULT now()
                );
                CREATE TABLE usage_metrics (
                    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                    user_id uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
                    api_calls bigint NOT NULL DEFAULT 0,
                    storage_bytes bigint NOT NULL DEFAULT 0,
                    period_start timestamptz NOT NULL DEFAULT date_trunc('month', now()),
                    created_at timestamptz NOT NULL DEFAULT now(),
                    updated_at timestamptz NOT NULL DEFAULT now()
                );
                """),
        Migration(
            version: 3, name: "webhook deliveries",
            sql: """
                CREATE TABLE webhook_deliveries (
                    svix_id text NOT NULL,
                    environment text NOT NULL,
                    event_type text NOT NULL,
                    clerk_user_id text,
                    outcome text,
                    received_at timestamptz NOT NULL DEFAULT now(),
                    processed_at timestamptz,
                    PRIMARY KEY (svix_id, environment)
                );
                """),
        Migration(
            version: 4, name: "api keys and outbox",
            sql: """
                CREATE TABLE api_keys (
                    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    key_hash text NOT NULL UNIQUE,
                    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'revoked')),
                    created_at timestamptz NOT NULL DEFAULT now(),
                    activated_at timestamptz,
                    revoked_at timestamptz
                );
                CREATE INDEX api_keys_user_idx ON api_keys (user_id) WHERE status <> 'revoked';
                -- At most one usable key per user, enforced by the database, not only by the code.
                CREATE UNIQUE INDEX api_keys_one_active_idx ON api_keys (user_id) WHERE status = 'active';
                CREATE TABLE outbox (
                    id bigserial PRIMARY KEY,
                    queue text NOT NULL,
                    payload jsonb NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    published_at timestamptz,
                    attempts integer NOT NULL DEFAULT 0,
                    last_error text
                );
                CREATE INDEX outbox_pending_idx ON outbox (id) WHERE published_at IS NULL;
                CREATE TABLE queue_rejects (
                    id bigserial PRIMARY KEY,
                    source text NOT NULL,
                    message_id text,
                    reason text NOT NULL,
                    body text,
                    received_at timestamptz NOT NULL DEFAULT now()
                );
                """),
        Migration(version: 5, name: "user sync function", sql: userSyncFunction),
        // Backfill from Clerk's Backend API: where a run stands (resumable) and what it saw (missing-in-Clerk).
        Migration(
            version: 7, name: "backfill runs",
            sql: """
                CREATE TABLE backfill_runs (
                    id bigserial PRIMARY KEY,
                    environment text NOT NULL,
                    phase text NOT NULL DEFAULT 'users',
                    next_offset integer NOT NULL DEFAULT 0,
                    org_offset integer NOT NULL DEFAULT 0,
                    counts jsonb NOT NULL DEFAULT '{}'::jsonb,
                    started_at timestamptz NOT NULL DEFAULT now(),
                    updated_at timestamptz NOT NULL DEFAULT now(),
                    finished_at timestamptz
                );
                CREATE UNIQUE INDEX backfill_runs_one_open ON backfill_runs (environment) WHERE finished_at IS NULL;
                CREATE TABLE backfill_seen (
                    run_id bigint NOT NULL REFERENCES backfill_runs (id) ON DELETE CASCADE,
                    kind text NOT NULL,
                    clerk_id text NOT NULL,
                    PRIMARY KEY (run_id, kind, clerk_id)
                );
                """),
        // One delivery at a time gives a user their key: the pending key carries a lease until its profile
        // call is over; an overlapping delivery that finds a live lease answers 409 instead of minting another.
        Migration(
            version: 8, name: "api key leases",
            sql: """
                ALTER TABLE api_keys ADD COLUMN lease_until timestamptz;
                """),
        Migration(version: 9, name: "organizations and memberships", sql: organizationTables + organizationSyncFunctions),
        // A row a broker refuses for good (too large, not allowed) is set aside, kept for a person, instead of
        // standing in front of every later row forever.
        Migration(
            version: 10, name: "outbox rows set aside",
            sql: """
                ALTER TABLE outbox ADD COLUMN set_aside_at timestamptz;
                DROP INDEX outbox_pending_idx;
                CREATE INDEX outbox_pending_idx ON outbox (id) WHERE published_at IS NULL AND set_aside_at IS NULL;
                """),
        // A backfill's position is the last item it applied, not only an offset: deletions in Clerk move
        // the offsets under a paused run (`BackfillCursor`).
        Migration(
            version: 11, name: "backfill anchors",
            sql: """
                ALTER TABLE backfill_runs ADD COLUMN user_anchor_id text, ADD COLUMN user_anchor_ms bigint,
                                          ADD COLUMN org_anchor_id text, ADD COLUMN org_anchor_ms bigint;
                """),
        // A refused message is kept once: Amazon MQ redelivers a whole batch (a retryable failure elsewhere in
        // it, a timed-out relay), and each redelivery used to add a row, which a person replaying the table
        // replayed again. The key is the whole message, body included, because the id alone is not one:
        // a message without an AMQP id is named by its place in its batch. md5 only keeps the index entry
        // small (a body is often past btree's limit). Rows already kept twice are collapsed to the first; the
        // lock makes the DELETE see every copy the index will, including one a running older version was keeping.
        Migration(
            version: 12, name: "refused messages kept once",
            sql: """
                LOCK TABLE queue_rejects IN SHARE ROW EXCLUSIVE MODE;
                DELETE FROM queue_rejects WHERE id IN (
                    SELECT id FROM (
                        SELECT id, row_number() OVER (PARTITION BY source, message_id, reason, body ORDER BY id) AS copy
                          FROM queue_rejects WHERE message_id IS NOT NULL AND body IS NOT NULL) c
                     WHERE copy > 1);
                CREATE UNIQUE INDEX queue_rejects_message_idx ON queue_rejects (source, message_id, reason, md5(body));
                """),
        // A backfill item with an id is kept once per (environment, kind, id, reason), its latest body: Clerk's
        // copy of an active user changes between runs (`last_active_at`), and keyed by its body too, each run
        // kept one more copy of the same person's data. The predicate names such rows by their `message_id`
        // (`<environment>/<kind>/<id>`, ids in Clerk's alphabet), and `BackfillStore.keep` routes rows by the
        // same text, so an insert meets only the index it names. Copies kept already collapse to the newest;
        // the lock makes the DELETE see every copy the index will, one a running older version is keeping too.
        Migration(
            version: 13, name: "backfill items kept once per id",
            sql: """
                LOCK TABLE queue_rejects IN SHARE ROW EXCLUSIVE MODE;
                DELETE FROM queue_rejects WHERE id IN (
                    SELECT id FROM (
                        SELECT id, row_number() OVER (PARTITION BY message_id, reason ORDER BY id DESC) AS copy
                          FROM queue_rejects
                         WHERE source = 'backfill' AND message_id ~ '/(user|organization|membership)/[A-Za-z0-9_]+$') c
                     WHERE copy > 1);
                CREATE UNIQUE INDEX queue_rejects_backfill_item_idx ON queue_rejects (message_id, reason)
                    WHERE source = 'backfill' AND message_id ~ '/(user|organization|membership)/[A-Za-z0-9_]+$';
                """),
        // Where a backfill stands inside one organization's memberships (`BackfillMembershipsPosition`): an
        // organization with more members than one invocation can list is applied a page at a time, and the
        // next invocation resumes inside it rather than list it from its first member again, for good.
        Migration(
            version: 14, name: "backfill memberships position",
            sql: """
                ALTER TABLE backfill_runs ADD COLUMN member_org_id text, ADD COLUMN member_offset integer,
                                          ADD COLUMN member_anchor_id text, ADD COLUMN member_anchor_ms bigint;
                """),
        // Clerk Billing: subscriptions, items and payment attempts, and the users' tier following their plan.
        Migration(version: 15, name: "billing", sql: billingTables + billingSyncFunctions)
    ]

    /// Applies one Clerk user event in a single statement (one round trip, one transaction):
    /// dedupe by delivery id, order by Clerk's `updated_at`, keep tombstones, erase personal data on delete.
    ///
    /// Kept in the database so that the row locks, the checks and the writes happen in one place with no
    /// client round trips in between; `UserStore` is its only caller.
    static let userSyncFunction = """
        CREATE FUNCTION clerk_apply_user_event(
            p_delivery_id text, p_environment text, p_event_type text, p_clerk_user_id text,
            p_email text, p_first_name text, p_last_name text, p_username text, p_image_url text,
            p_body text, p_created_ms bigint, p_updated_ms bigint)
        RETURNS TABLE (o_outcome text, o_user_id uuid)
        LANGUAGE plpgsql AS $fn$
        DECLARE
            v_user users%ROWTYPE;
            v_id uuid;
            v_created timestamptz := to_timestamp(p_created_ms / 1000.0);
            v_updated timestamptz := to_timestamp(p_updated_ms / 1000.0);
            v_changed jsonb;
        BEGIN
            -- The same message retried carries the same delivery id: the first one wins, later ones change nothing.
            INSERT INTO webhook_deliveries (svix_id, environment, event_type, clerk_user_id, processed_at)
            VALUES (p_delivery_id, p_environment, p_event_type, p_clerk_user_id, now())
            ON CONFLICT (svix_id, environment) DO NOTHING;
            IF NOT FOUND THEN
                SELECT u.id INTO v_id FROM users u
                 WHERE u.clerk_user_id = p_clerk_user_id AND u.environment = p_environment;
                o_outcome := 'duplicate'; o_user_id := v_id;
                RETURN NEXT;
                RETURN;
            END IF;

            SELECT * INTO v_user FROM users u
             WHERE u.clerk_user_id = p_clerk_user_id AND u.environment = p_environment FOR UPDATE;

            IF NOT FOUND THEN
                IF p_event_type = 'user.deleted' THEN
                    -- A tombstone, so that a late user.created cannot bring the user back.
                    INSERT INTO users (clerk_user_id, environment, deleted_at)
                    VALUES (p_clerk_user_id, p_environment, now())
                    ON CONFLICT (clerk_user_id, environment) DO NOTHING RETURNING id INTO v_id;
                    IF v_id IS NOT NULL THEN
                        INSERT INTO outbox (queue, payload) VALUES ('user-events', jsonb_build_object(
                            'type', 'user.deleted', 'userId', v_id, 'clerkUserId', p_clerk_user_id,
                            'environment', p_environment, 'changed', '{}'::jsonb));
                    END IF;
                ELSE
                    INSERT INTO users (clerk_user_id, environment, email, first_name, last_name, username, image_url,
                                       raw_payload, clerk_created_at, clerk_updated_at)
                    VALUES (p_clerk_user_id, p_environment, p_email, p_first_name, p_last_name, p_username, p_image_url,
                            p_body::jsonb -> 'data', v_created, v_updated)
                    ON CONFLICT (clerk_user_id, environment) DO NOTHING RETURNING id INTO v_id;
                    IF v_id IS NOT NULL THEN
                        INSERT INTO subscriptions (user_id, tier) VALUES (v_id, 'free');
                        INSERT INTO usage_metrics (user_id) VALUES (v_id);
                        INSERT INTO outbox (queue, payload) VALUES ('user-events', jsonb_build_object(
                            'type', 'user.created', 'userId', v_id, 'clerkUserId', p_clerk_user_id, 'environment', p_environment,
                            'changed', jsonb_build_object('email', p_email, 'first_name', p_first_name, 'last_name', p_last_name,
                                                          'username', p_username, 'image_url', p_image_url)));
                    END IF;
                END IF;
                IF v_id IS NOT NULL THEN
                    UPDATE webhook_deliveries SET outcome = 'processed'
                     WHERE svix_id = p_delivery_id AND environment = p_environment;
                    o_outcome := 'processed'; o_user_id := v_id;
                    RETURN NEXT;
                    RETURN;
                END IF;
                -- Another transaction created the row meanwhile: lock it and carry on as an existing user.
                SELECT * INTO v_user FROM users u
                 WHERE u.clerk_user_id = p_clerk_user_id AND u.environment = p_environment FOR UPDATE;
            END IF;

            IF p_event_type = 'user.deleted' THEN
                IF v_user.deleted_at IS NULL THEN
                    UPDATE users SET email = NULL, first_name = NULL, last_name = NULL, username = NULL,
                                     image_url = NULL, raw_payload = NULL, deleted_at = now(), updated_at = now()
                     WHERE id = v_user.id;
                    DELETE FROM subscriptions s WHERE s.user_id = v_user.id;
                    DELETE FROM usage_metrics m WHERE m.user_id = v_user.id;
                    -- A deleted user's keys stop working: revoke them and tell the gateway.
                    INSERT INTO outbox (queue, payload)
                    SELECT 'api-key-mappings', jsonb_build_object('op', 'delete', 'key', 'api_key:' || k.key_hash)
                      FROM api_keys k WHERE k.user_id = v_user.id AND k.status <> 'revoked' ORDER BY k.created_at;
                    UPDATE api_keys SET status = 'revoked', revoked_at = now() WHERE user_id = v_user.id AND status <> 'revoked';
                    INSERT INTO outbox (queue, payload) VALUES ('user-events', jsonb_build_object(
                        'type', 'user.deleted', 'userId', v_user.id, 'clerkUserId', p_clerk_user_id,
                        'environment', p_environment, 'changed', '{}'::jsonb));
                END IF;
                o_outcome := 'processed';
            ELSIF v_user.deleted_at IS NOT NULL
               OR (v_updated IS NOT NULL AND v_user.clerk_updated_at IS NOT NULL AND v_updated < v_user.clerk_updated_at) THEN
                -- Deleted users stay deleted; an older snapshot never overwrites a newer one.
                o_outcome := 'stale';
            ELSE
                v_changed := '{}'::jsonb;
                IF v_user.email IS DISTINCT FROM p_email THEN v_changed := v_changed || jsonb_build_object('email', p_email); END IF;
                IF v_user.first_name IS DISTINCT FROM p_first_name THEN v_changed := v_changed || jsonb_build_object('first_name', p_first_name); END IF;
                IF v_user.last_name IS DISTINCT FROM p_last_name THEN v_changed := v_changed || jsonb_build_object('last_name', p_last_name); END IF;
                IF v_user.username IS DISTINCT FROM p_username THEN v_changed := v_changed || jsonb_build_object('username', p_username); END IF;
                IF v_user.image_url IS DISTINCT FROM p_image_url THEN v_changed := v_changed || jsonb_build_object('image_url', p_image_url); END IF;
                IF v_changed <> '{}'::jsonb OR v_user.clerk_updated_at IS NULL THEN
                    INSERT INTO outbox (queue, payload) VALUES ('user-events', jsonb_build_object(
                        'type', CASE WHEN v_user.clerk_updated_at IS NULL THEN 'user.created' ELSE 'user.updated' END,
                        'userId', v_user.id, 'clerkUserId', p_clerk_user_id, 'environment', p_environment, 'changed', v_changed));
                END IF;
                UPDATE users SET email = p_email, first_name = p_first_name, last_name = p_last_name,
                                 username = p_username, image_url = p_image_url, raw_payload = p_body::jsonb -> 'data',
                                 clerk_created_at = COALESCE(v_created, clerk_created_at),
                                 clerk_updated_at = COALESCE(v_updated, clerk_updated_at), updated_at = now()
                 WHERE id = v_user.id;
                o_outcome := 'processed';
            END IF;
            UPDATE webhook_deliveries SET outcome = o_outcome
             WHERE svix_id = p_delivery_id AND environment = p_environment;
            o_user_id := v_user.id;
            RETURN NEXT;
        END
        $fn$;
        """
}
