extension Schema {
    /// The billing sync functions, in the users' manner: one statement per delivery, deduplicated by delivery id,
    /// a newer Clerk `updated_at` wins (equal or older is stale; a null one never overwrites a known one), an
    /// outbox row on `billing-events` per applied delivery.
    ///
    /// Every function takes its payer's locks first (the organization's `clerk_org_lock`, then the user's
    /// `clerk_user_link_lock` bucket, the order memberships take them), so one payer's changes, and the tier
    /// worked out from all its items, are applied one at a time; a user or organization row inserted meanwhile
    /// takes the same lock in its trigger, so whichever commits second links the other.
    static let billingSyncFunctions = """
        CREATE FUNCTION clerk_billing_payer(p_environment text, p_clerk_user_id text, p_clerk_org_id text,
                                           OUT o_user_id uuid, OUT o_organization_id uuid)
        LANGUAGE plpgsql AS $fn$
        BEGIN
            IF p_clerk_org_id IS NOT NULL THEN
                PERFORM clerk_org_lock('organization', p_environment, p_clerk_org_id);
                SELECT o.id INTO o_organization_id FROM organizations o
                 WHERE o.clerk_org_id = p_clerk_org_id AND o.environment = p_environment;
            END IF;
            IF p_clerk_user_id IS NOT NULL THEN
                PERFORM clerk_user_link_lock(p_environment, p_clerk_user_id);
                SELECT u.id INTO o_user_id FROM users u WHERE u.clerk_user_id = p_clerk_user_id AND u.environment = p_environment;
            END IF;
        END
        $fn$;

        -- The user's tier by Billing: the plan of its latest current item (canceled runs to its period end),
        -- 'free' when none is current, NULL when the user has no billing item at all (the tier is left alone).
        CREATE FUNCTION clerk_billing_tier(p_user_id uuid) RETURNS text
        LANGUAGE sql STABLE AS $fn$
            SELECT CASE WHEN EXISTS (SELECT 1 FROM billing_subscription_items i WHERE i.user_id = p_user_id) THEN
                coalesce((SELECT i.plan_slug FROM billing_subscription_items i
                           WHERE i.user_id = p_user_id AND i.status IN ('active', 'past_due', 'canceled') AND i.plan_slug IS NOT NULL
                           ORDER BY i.period_start DESC NULLS LAST, i.clerk_updated_at DESC NULLS LAST, i.clerk_item_id DESC
                           LIMIT 1), 'free')
            END
        $fn$;

        CREATE FUNCTION clerk_billing_set_tier(p_user_id uuid) RETURNS text
        LANGUAGE plpgsql AS $fn$
        DECLARE
            v_tier text := clerk_billing_tier(p_user_id);
        BEGIN
            IF v_tier IS NOT NULL THEN
                UPDATE subscriptions SET tier = v_tier, updated_at = now() WHERE user_id = p_user_id AND tier IS DISTINCT FROM v_tier;
            END IF;
            RETURN v_tier;
        END
        $fn$;

        -- A subscription row made after its items (a new user's) starts at the tier they give.
        CREATE FUNCTION clerk_billing_subscription_tier() RETURNS trigger
        LANGUAGE plpgsql AS $fn$
        BEGIN
            NEW.tier := coalesce(clerk_billing_tier(NEW.user_id), NEW.tier);
            RETURN NEW;
        END
        $fn$;
        CREATE TRIGGER subscriptions_billing_tier BEFORE INSERT ON subscriptions
            FOR EACH ROW EXECUTE FUNCTION clerk_billing_subscription_tier();

        -- New users adopt their waiting billing rows (the bucket locks the memberships trigger takes, in order).
        CREATE FUNCTION clerk_link_user_billing() RETURNS trigger
        LANGUAGE plpgsql AS $fn$
        BEGIN
            PERFORM pg_advisory_xact_lock(1869768552, t.bucket)
               FROM (SELECT DISTINCT hashtext(n.environment || ':' || n.clerk_user_id) & 127 AS bucket
                       FROM new_users n ORDER BY 1) t;
            UPDATE billing_subscriptions b SET user_id = n.id FROM new_users n
             WHERE b.clerk_user_id = n.clerk_user_id AND b.environment = n.environment AND b.user_id IS NULL;
            UPDATE billing_subscription_items b SET user_id = n.id FROM new_users n
             WHERE b.clerk_user_id = n.clerk_user_id AND b.environment = n.environment AND b.user_id IS NULL;
            UPDATE billing_payment_attempts b SET user_id = n.id FROM new_users n
             WHERE b.clerk_user_id = n.clerk_user_id AND b.environment = n.environment AND b.user_id IS NULL;
            -- A subscription row inserted in the same statement as its user (a CTE) was made before the link.
            PERFORM clerk_billing_set_tier(n.id) FROM new_users n
             WHERE EXISTS (SELECT 1 FROM billing_subscription_items i WHERE i.user_id = n.id);
            RETURN NULL;
        END
        $fn$;
        -- PostgreSQL fires a table's triggers in name order: this one after users_link_memberships, so that
        -- trigger's own bucket locks guard the memberships it links (and make mutants can take them out).
        CREATE TRIGGER users_with_billing AFTER INSERT ON users REFERENCING NEW TABLE AS new_users
            FOR EACH STATEMENT EXECUTE FUNCTION clerk_link_user_billing();

        CREATE FUNCTION clerk_link_organization_billing() RETURNS trigger
        LANGUAGE plpgsql AS $fn$
        BEGIN
            PERFORM clerk_org_lock('organization', t.environment, t.clerk_org_id)
               FROM (SELECT DISTINCT n.environment, n.clerk_org_id FROM new_organizations n ORDER BY 1, 2) t;
            UPDATE billing_subscriptions b SET organization_id = n.id FROM new_organizations n
             WHERE b.clerk_org_id = n.clerk_org_id AND b.environment = n.environment AND b.organization_id IS NULL;
            UPDATE billing_subscription_items b SET organization_id = n.id FROM new_organizations n
             WHERE b.clerk_org_id = n.clerk_org_id AND b.environment = n.environment AND b.organization_id IS NULL;
            UPDATE billing_payment_attempts b SET organization_id = n.id FROM new_organizations n
             WHERE b.clerk_org_id = n.clerk_org_id AND b.environment = n.environment AND b.organization_id IS NULL;
            RETURN NULL;
        END
        $fn$;
        CREATE TRIGGER organizations_link_billing AFTER INSERT ON organizations REFERENCING NEW TABLE AS new_organizations
            FOR EACH STATEMENT EXECUTE FUNCTION clerk_link_organization_billing();

        -- One item, newer wins; the caller holds the payer's locks.
        CREATE FUNCTION clerk_billing_put_item(
            p_environment text, p_clerk_item_id text, p_clerk_subscription_id text, p_status text,
            p_clerk_payer_id text, p_clerk_user_id text, p_clerk_org_id text, p_user_id uuid, p_organization_id uuid,
            p_plan_id text, p_plan_slug text, p_plan_name text, p_amount bigint, p_currency text, p_interval text,
            p_period_start_ms bigint, p_period_end_ms bigint, p_is_free_trial boolean, p_created_ms bigint,
            p_updated_ms bigint, p_raw text)
        RETURNS TABLE (o_outcome text, o_id uuid)
        LANGUAGE plpgsql AS $fn$
        DECLARE
            v_i billing_subscription_items%ROWTYPE;
            v_start timestamptz := to_timestamp(p_period_start_ms / 1000.0);
            v_end timestamptz := to_timestamp(p_period_end_ms / 1000.0);
            v_created timestamptz := to_timestamp(p_created_ms / 1000.0);
            v_updated timestamptz := to_timestamp(p_updated_ms / 1000.0);
        BEGIN
            INSERT INTO billing_subscription_items (clerk_item_id, environment, clerk_subscription_id, clerk_payer_id, clerk_user_id,
                                                    clerk_org_id, user_id, organization_id, status, plan_id, plan_slug, plan_name,
                                                    amount, currency, interval, period_start, period_end, is_free_trial,
                                                    clerk_created_at, clerk_updated_at, raw_payload)
            VALUES (p_clerk_item_id, p_environment, p_clerk_subscription_id, p_clerk_payer_id, p_clerk_user_id, p_clerk_org_id,
                    p_user_id, p_organization_id, p_status, p_plan_id, p_plan_slug, p_plan_name, p_amount, p_currency, p_interval,
                    v_start, v_end, coalesce(p_is_free_trial, false), v_created, v_updated, p_raw::jsonb)
            ON CONFLICT (clerk_item_id, environment) DO NOTHING RETURNING id INTO o_id;
            IF o_id IS NOT NULL THEN
                o_outcome := 'processed';
                RETURN NEXT;
                RETURN;
            END IF;
            SELECT * INTO v_i FROM billing_subscription_items i
             WHERE i.clerk_item_id = p_clerk_item_id AND i.environment = p_environment FOR UPDATE;
            o_id := v_i.id;
            IF v_i.clerk_updated_at IS NOT NULL AND (v_updated IS NULL OR v_updated <= v_i.clerk_updated_at) THEN
                o_outcome := 'stale';
                -- An older copy still names a payer the row may lack.
                UPDATE billing_subscription_items
                   SET clerk_payer_id = coalesce(clerk_payer_id, p_clerk_payer_id), clerk_user_id = coalesce(clerk_user_id, p_clerk_user_id),
                       clerk_org_id = coalesce(clerk_org_id, p_clerk_org_id), user_id = coalesce(user_id, p_user_id),
                       organization_id = coalesce(organization_id, p_organization_id),
                       clerk_subscription_id = coalesce(clerk_subscription_id, p_clerk_subscription_id)
                 WHERE id = v_i.id AND ((clerk_user_id IS NULL AND p_clerk_user_id IS NOT NULL)
                                     OR (clerk_org_id IS NULL AND p_clerk_org_id IS NOT NULL)
                                     OR (user_id IS NULL AND p_user_id IS NOT NULL)
                                     OR (organization_id IS NULL AND p_organization_id IS NOT NULL)
                                     OR (clerk_subscription_id IS NULL AND p_clerk_subscription_id IS NOT NULL));
            ELSE
                o_outcome := 'processed';
                UPDATE billing_subscription_items
                   SET clerk_subscription_id = coalesce(p_clerk_subscription_id, clerk_subscription_id),
                       clerk_payer_id = coalesce(p_clerk_payer_id, clerk_payer_id), clerk_user_id = coalesce(p_clerk_user_id, clerk_user_id),
                       clerk_org_id = coalesce(p_clerk_org_id, clerk_org_id), user_id = coalesce(user_id, p_user_id),
                       organization_id = coalesce(organization_id, p_organization_id), status = p_status, plan_id = p_plan_id,
                       plan_slug = p_plan_slug, plan_name = p_plan_name, amount = p_amount, currency = p_currency,
                       interval = p_interval, period_start = v_start, period_end = v_end,
                       is_free_trial = coalesce(p_is_free_trial, false), clerk_created_at = coalesce(v_created, clerk_created_at),
                       clerk_updated_at = coalesce(v_updated, clerk_updated_at), raw_payload = p_raw::jsonb, updated_at = now()
                 WHERE id = v_i.id;
            END IF;
            RETURN NEXT;
        END
        $fn$;

        CREATE FUNCTION clerk_billing_payer_json(p_clerk_payer_id text, p_clerk_user_id text, p_clerk_org_id text,
                                                 p_user_id uuid, p_organization_id uuid) RETURNS jsonb
        LANGUAGE sql IMMUTABLE AS $fn$
            SELECT jsonb_build_object('clerkPayerId', p_clerk_payer_id, 'clerkUserId', p_clerk_user_id, 'clerkOrgId', p_clerk_org_id,
                                      'userId', p_user_id, 'organizationId', p_organization_id);
        $fn$;

        CREATE FUNCTION clerk_apply_billing_item(
            p_delivery_id text, p_environment text, p_event_type text, p_clerk_item_id text, p_clerk_subscription_id text,
            p_status text, p_clerk_payer_id text, p_clerk_user_id text, p_clerk_org_id text,
            p_plan_id text, p_plan_slug text, p_plan_name text, p_amount bigint, p_currency text, p_interval text,
            p_period_start_ms bigint, p_period_end_ms bigint, p_is_free_trial boolean, p_created_ms bigint,
            p_updated_ms bigint, p_raw text)
        RETURNS TABLE (o_outcome text, o_id uuid)
        LANGUAGE plpgsql AS $fn$
        DECLARE
            v_payer_id text := p_clerk_payer_id;
            v_clerk_user_id text := p_clerk_user_id;
            v_clerk_org_id text := p_clerk_org_id;
            v_user_id uuid;
            v_org_id uuid;
            v_tier text;
        BEGIN
            INSERT INTO webhook_deliveries (svix_id, environment, event_type, clerk_user_id, processed_at)
            VALUES (p_delivery_id, p_environment, p_event_type, p_clerk_user_id, now())
            ON CONFLICT (svix_id, environment) DO NOTHING;
            IF NOT FOUND THEN
                SELECT i.id INTO o_id FROM billing_subscription_items i
                 WHERE i.clerk_item_id = p_clerk_item_id AND i.environment = p_environment;
                o_outcome := 'duplicate';
                RETURN NEXT;
                RETURN;
            END IF;
            IF v_clerk_user_id IS NULL AND v_clerk_org_id IS NULL THEN
                -- An event without its payer: the one stored for the item, or else for its subscription.
                SELECT i.clerk_payer_id, i.clerk_user_id, i.clerk_org_id INTO v_payer_id, v_clerk_user_id, v_clerk_org_id
                  FROM billing_subscription_items i WHERE i.clerk_item_id = p_clerk_item_id AND i.environment = p_environment;
                IF v_clerk_user_id IS NULL AND v_clerk_org_id IS NULL THEN
                    SELECT s.clerk_payer_id, s.clerk_user_id, s.clerk_org_id INTO v_payer_id, v_clerk_user_id, v_clerk_org_id
                      FROM billing_subscriptions s
                     WHERE s.clerk_subscription_id = p_clerk_subscription_id AND s.environment = p_environment;
                END IF;
                v_payer_id := coalesce(p_clerk_payer_id, v_payer_id);
            END IF;
            SELECT p.o_user_id, p.o_organization_id INTO v_user_id, v_org_id
              FROM clerk_billing_payer(p_environment, v_clerk_user_id, v_clerk_org_id) p;
            SELECT r.o_outcome, r.o_id INTO o_outcome, o_id
              FROM clerk_billing_put_item(p_environment, p_clerk_item_id, p_clerk_subscription_id, p_status, v_payer_id,
                                          v_clerk_user_id, v_clerk_org_id, v_user_id, v_org_id, p_plan_id, p_plan_slug,
                                          p_plan_name, p_amount, p_currency, p_interval, p_period_start_ms, p_period_end_ms,
                                          p_is_free_trial, p_created_ms, p_updated_ms, p_raw) r;
            IF o_outcome = 'processed' THEN
                IF v_user_id IS NOT NULL THEN v_tier := clerk_billing_set_tier(v_user_id); END IF;
                INSERT INTO outbox (queue, payload) VALUES ('billing-events', jsonb_build_object(
                    'type', p_event_type, 'environment', p_environment, 'clerkId', p_clerk_item_id,
                    'clerkSubscriptionId', p_clerk_subscription_id, 'clerkUserId', v_clerk_user_id, 'clerkOrgId', v_clerk_org_id,
                    'payer', clerk_billing_payer_json(v_payer_id, v_clerk_user_id, v_clerk_org_id, v_user_id, v_org_id),
                    'status', p_status, 'planSlug', p_plan_slug, 'periodEnd', p_period_end_ms, 'tier', v_tier));
            END IF;
            UPDATE webhook_deliveries SET outcome = o_outcome WHERE svix_id = p_delivery_id AND environment = p_environment;
            RETURN NEXT;
        END
        $fn$;

        CREATE FUNCTION clerk_apply_billing_subscription(
            p_delivery_id text, p_environment text, p_event_type text, p_clerk_subscription_id text, p_status text,
            p_clerk_payer_id text, p_clerk_user_id text, p_clerk_org_id text, p_active_ms bigint, p_past_due_ms bigint,
            p_canceled_ms bigint, p_ended_ms bigint, p_latest_payment_id text, p_created_ms bigint, p_updated_ms bigint,
            p_raw text, p_item_ids text[], p_item_statuses text[], p_item_plan_ids text[], p_item_plan_slugs text[],
            p_item_plan_names text[], p_item_amounts bigint[], p_item_currencies text[], p_item_intervals text[],
            p_item_period_start_ms bigint[], p_item_period_end_ms bigint[], p_item_free_trials boolean[],
            p_item_created_ms bigint[], p_item_updated_ms bigint[], p_item_raws text[])
        RETURNS TABLE (o_outcome text, o_id uuid)
        LANGUAGE plpgsql AS $fn$
        DECLARE
            v_s billing_subscriptions%ROWTYPE;
            v_user_id uuid;
            v_org_id uuid;
            v_tier text;
            v_item record;
            v_put record;
            v_items jsonb := '[]'::jsonb;
            v_applied boolean := false;
            v_updated timestamptz := to_timestamp(p_updated_ms / 1000.0);
        BEGIN
            INSERT INTO webhook_deliveries (svix_id, environment, event_type, clerk_user_id, processed_at)
            VALUES (p_delivery_id, p_environment, p_event_type, p_clerk_user_id, now())
            ON CONFLICT (svix_id, environment) DO NOTHING;
            IF NOT FOUND THEN
                SELECT s.id INTO o_id FROM billing_subscriptions s
                 WHERE s.clerk_subscription_id = p_clerk_subscription_id AND s.environment = p_environment;
                o_outcome := 'duplicate';
                RETURN NEXT;
                RETURN;
            END IF;
            SELECT p.o_user_id, p.o_organization_id INTO v_user_id, v_org_id
              FROM clerk_billing_payer(p_environment, p_clerk_user_id, p_clerk_org_id) p;

            INSERT INTO billing_subscriptions (clerk_subscription_id, environment, clerk_payer_id, clerk_user_id, clerk_org_id,
                                               user_id, organization_id, status, active_at, past_due_at, canceled_at, ended_at,
                                               latest_payment_id, clerk_created_at, clerk_updated_at, raw_payload)
            VALUES (p_clerk_subscription_id, p_environment, p_clerk_payer_id, p_clerk_user_id, p_clerk_org_id, v_user_id, v_org_id,
                    p_status, to_timestamp(p_active_ms / 1000.0), to_timestamp(p_past_due_ms / 1000.0),
                    to_timestamp(p_canceled_ms / 1000.0), to_timestamp(p_ended_ms / 1000.0), p_latest_payment_id,
                    to_timestamp(p_created_ms / 1000.0), v_updated, p_raw::jsonb)
            ON CONFLICT (clerk_subscription_id, environment) DO NOTHING RETURNING id INTO o_id;
            IF o_id IS NOT NULL THEN
                v_applied := true;
            ELSE
                SELECT * INTO v_s FROM billing_subscriptions s
                 WHERE s.clerk_subscription_id = p_clerk_subscription_id AND s.environment = p_environment FOR UPDATE;
                o_id := v_s.id;
                IF v_s.clerk_updated_at IS NULL OR (v_updated IS NOT NULL AND v_updated > v_s.clerk_updated_at) THEN
                    v_applied := true;
                    UPDATE billing_subscriptions
                       SET clerk_payer_id = coalesce(p_clerk_payer_id, clerk_payer_id), clerk_user_id = coalesce(p_clerk_user_id, clerk_user_id),
                           clerk_org_id = coalesce(p_clerk_org_id, clerk_org_id), user_id = coalesce(user_id, v_user_id),
                           organization_id = coalesce(organization_id, v_org_id), status = p_status,
                           active_at = to_timestamp(p_active_ms / 1000.0), past_due_at = to_timestamp(p_past_due_ms / 1000.0),
                           canceled_at = to_timestamp(p_canceled_ms / 1000.0), ended_at = to_timestamp(p_ended_ms / 1000.0),
                           latest_payment_id = p_latest_payment_id,
                           clerk_created_at = coalesce(to_timestamp(p_created_ms / 1000.0), clerk_created_at),
                           clerk_updated_at = coalesce(v_updated, clerk_updated_at), raw_payload = p_raw::jsonb, updated_at = now()
                     WHERE id = v_s.id;
                ELSE
                    UPDATE billing_subscriptions SET user_id = coalesce(user_id, v_user_id), organization_id = coalesce(organization_id, v_org_id)
                     WHERE id = v_s.id AND ((user_id IS NULL AND v_user_id IS NOT NULL) OR (organization_id IS NULL AND v_org_id IS NOT NULL));
                END IF;
            END IF;

            -- Its items, each by its own updated_at, carrying the subscription's payer; in id order, so two
            -- deliveries of one subscription lock its items in one order.
            FOR v_item IN
                SELECT * FROM unnest(p_item_ids, p_item_statuses, p_item_plan_ids, p_item_plan_slugs, p_item_plan_names,
                                     p_item_amounts, p_item_currencies, p_item_intervals, p_item_period_start_ms,
                                     p_item_period_end_ms, p_item_free_trials, p_item_created_ms, p_item_updated_ms, p_item_raws)
                    AS t(id, status, plan_id, plan_slug, plan_name, amount, currency, interval_, start_ms, end_ms, free_trial,
                         created_ms, updated_ms, raw)
                 WHERE t.id IS NOT NULL ORDER BY t.id
            LOOP
                SELECT r.o_outcome, r.o_id INTO v_put
                  FROM clerk_billing_put_item(p_environment, v_item.id, p_clerk_subscription_id, coalesce(v_item.status, 'incomplete'),
                                              p_clerk_payer_id, p_clerk_user_id, p_clerk_org_id, v_user_id, v_org_id,
                                              v_item.plan_id, v_item.plan_slug, v_item.plan_name, v_item.amount, v_item.currency,
                                              v_item.interval_, v_item.start_ms, v_item.end_ms, v_item.free_trial,
                                              v_item.created_ms, v_item.updated_ms, v_item.raw) r;
                IF v_put.o_outcome = 'processed' THEN
                    v_applied := true;
                    v_items := v_items || jsonb_build_array(jsonb_build_object(
                        'clerkId', v_item.id, 'status', v_item.status, 'planSlug', v_item.plan_slug, 'periodEnd', v_item.end_ms));
                END IF;
            END LOOP;

            IF v_applied THEN
                IF v_user_id IS NOT NULL AND v_items <> '[]'::jsonb THEN v_tier := clerk_billing_set_tier(v_user_id); END IF;
                INSERT INTO outbox (queue, payload) VALUES ('billing-events', jsonb_build_object(
                    'type', p_event_type, 'environment', p_environment, 'clerkId', p_clerk_subscription_id,
                    'clerkUserId', p_clerk_user_id, 'clerkOrgId', p_clerk_org_id,
                    'payer', clerk_billing_payer_json(p_clerk_payer_id, p_clerk_user_id, p_clerk_org_id, v_user_id, v_org_id),
                    'status', p_status, 'items', v_items, 'tier', v_tier));
                o_outcome := 'processed';
            ELSE
                o_outcome := 'stale';
            END IF;
            UPDATE webhook_deliveries SET outcome = o_outcome WHERE svix_id = p_delivery_id AND environment = p_environment;
            RETURN NEXT;
        END
        $fn$;

        CREATE FUNCTION clerk_apply_billing_payment_attempt(
            p_delivery_id text, p_environment text, p_event_type text, p_clerk_attempt_id text, p_payment_id text,
            p_status text, p_clerk_payer_id text, p_clerk_user_id text, p_clerk_org_id text, p_amount bigint,
            p_currency text, p_failed_code text, p_failed_decline_code text, p_paid_ms bigint, p_failed_ms bigint,
            p_item_ids text[], p_created_ms bigint, p_updated_ms bigint, p_raw text)
        RETURNS TABLE (o_outcome text, o_id uuid)
        LANGUAGE plpgsql AS $fn$
        DECLARE
            v_a billing_payment_attempts%ROWTYPE;
            v_user_id uuid;
            v_org_id uuid;
            v_updated timestamptz := to_timestamp(p_updated_ms / 1000.0);
        BEGIN
            INSERT INTO webhook_deliveries (svix_id, environment, event_type, clerk_user_id, processed_at)
            VALUES (p_delivery_id, p_environment, p_event_type, p_clerk_user_id, now())
            ON CONFLICT (svix_id, environment) DO NOTHING;
            IF NOT FOUND THEN
                SELECT a.id INTO o_id FROM billing_payment_attempts a
                 WHERE a.clerk_attempt_id = p_clerk_attempt_id AND a.environment = p_environment;
                o_outcome := 'duplicate';
                RETURN NEXT;
                RETURN;
            END IF;
            SELECT p.o_user_id, p.o_organization_id INTO v_user_id, v_org_id
              FROM clerk_billing_payer(p_environment, p_clerk_user_id, p_clerk_org_id) p;
            INSERT INTO billing_payment_attempts (clerk_attempt_id, environment, payment_id, clerk_payer_id, clerk_user_id, clerk_org_id,
                                                  user_id, organization_id, status, amount, currency, failed_code,
                                                  failed_decline_code, paid_at, failed_at, item_ids, clerk_created_at,
                                                  clerk_updated_at, raw_payload)
            VALUES (p_clerk_attempt_id, p_environment, p_payment_id, p_clerk_payer_id, p_clerk_user_id, p_clerk_org_id, v_user_id,
                    v_org_id, p_status, p_amount, p_currency, p_failed_code, p_failed_decline_code,
                    to_timestamp(p_paid_ms / 1000.0), to_timestamp(p_failed_ms / 1000.0), coalesce(p_item_ids, '{}'),
                    to_timestamp(p_created_ms / 1000.0), v_updated, p_raw::jsonb)
            ON CONFLICT (clerk_attempt_id, environment) DO NOTHING RETURNING id INTO o_id;
            IF o_id IS NOT NULL THEN
                o_outcome := 'processed';
            ELSE
                SELECT * INTO v_a FROM billing_payment_attempts a
                 WHERE a.clerk_attempt_id = p_clerk_attempt_id AND a.environment = p_environment FOR UPDATE;
                o_id := v_a.id;
                IF v_a.clerk_updated_at IS NULL OR (v_updated IS NOT NULL AND v_updated > v_a.clerk_updated_at) THEN
                    o_outcome := 'processed';
                    UPDATE billing_payment_attempts
                       SET payment_id = coalesce(p_payment_id, payment_id), clerk_payer_id = coalesce(p_clerk_payer_id, clerk_payer_id),
                           clerk_user_id = coalesce(p_clerk_user_id, clerk_user_id), clerk_org_id = coalesce(p_clerk_org_id, clerk_org_id),
                           user_id = coalesce(user_id, v_user_id), organization_id = coalesce(organization_id, v_org_id),
                           status = p_status, amount = p_amount, currency = p_currency, failed_code = p_failed_code,
                           failed_decline_code = p_failed_decline_code, paid_at = to_timestamp(p_paid_ms / 1000.0),
                           failed_at = to_timestamp(p_failed_ms / 1000.0), item_ids = coalesce(p_item_ids, '{}'),
                           clerk_created_at = coalesce(to_timestamp(p_created_ms / 1000.0), clerk_created_at),
                           clerk_updated_at = coalesce(v_updated, clerk_updated_at), raw_payload = p_raw::jsonb, updated_at = now()
                     WHERE id = v_a.id;
                ELSE
                    o_outcome := 'stale';
                    UPDATE billing_payment_attempts SET user_id = coalesce(user_id, v_user_id), organization_id = coalesce(organization_id, v_org_id)
                     WHERE id = v_a.id AND ((user_id IS NULL AND v_user_id IS NOT NULL) OR (organization_id IS NULL AND v_org_id IS NOT NULL));
                END IF;
            END IF;
            IF o_outcome = 'processed' THEN
                INSERT INTO outbox (queue, payload) VALUES ('billing-events', jsonb_build_object(
                    'type', p_event_type, 'environment', p_environment, 'clerkId', p_clerk_attempt_id, 'paymentId', p_payment_id,
                    'clerkUserId', p_clerk_user_id, 'clerkOrgId', p_clerk_org_id,
                    'payer', clerk_billing_payer_json(p_clerk_payer_id, p_clerk_user_id, p_clerk_org_id, v_user_id, v_org_id),
                    'status', p_status, 'amount', p_amount, 'currency', p_currency, 'failedCode', p_failed_code,
                    'failedDeclineCode', p_failed_decline_code, 'itemIds', to_jsonb(coalesce(p_item_ids, '{}'))));
            END IF;
            UPDATE webhook_deliveries SET outcome = o_outcome WHERE svix_id = p_delivery_id AND environment = p_environment;
            RETURN NEXT;
        END
        $fn$;
        """
}
