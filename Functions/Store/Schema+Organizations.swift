extension Schema {
    /// Organizations and memberships, as Clerk's webhooks and Backend API describe them. A membership may
    /// arrive before its user or organization: its `user_id`/`organization_id` stay null until they do.
    static let organizationTables = """
        CREATE TABLE organizations (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            clerk_org_id text NOT NULL,
            environment text NOT NULL,
            name text,
            slug text,
            image_url text,
            public_metadata jsonb,
            raw_payload jsonb,
            clerk_created_at timestamptz,
            clerk_updated_at timestamptz,
            deleted_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT organizations_clerk_org_id_environment_key UNIQUE (clerk_org_id, environment)
        );
        CREATE TABLE organization_memberships (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            clerk_membership_id text NOT NULL,
            environment text NOT NULL,
            organization_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
            user_id uuid REFERENCES users (id) ON DELETE CASCADE,
            clerk_org_id text,
            clerk_user_id text,
            role text,
            permissions text[] NOT NULL DEFAULT '{}',
            clerk_created_at timestamptz,
            clerk_updated_at timestamptz,
            deleted_at timestamptz,
            CONSTRAINT organization_memberships_clerk_membership_id_environment_key UNIQUE (clerk_membership_id, environment)
        );
        CREATE INDEX organization_memberships_user_idx ON organization_memberships (user_id) WHERE deleted_at IS NULL;
        CREATE INDEX organization_memberships_org_idx ON organization_memberships (organization_id);
        -- Memberships waiting for their user or organization, found when it arrives.
        CREATE INDEX organization_memberships_unlinked_user_idx ON organization_memberships (clerk_user_id, environment)
            WHERE user_id IS NULL;
        CREATE INDEX organization_memberships_unlinked_org_idx ON organization_memberships (clerk_org_id, environment)
            WHERE organization_id IS NULL;

        """

    /// The sync functions, in the user function's manner (one statement per event: dedupe by delivery id,
    /// order by Clerk's `updated_at`, tombstones never revived, outbox rows on `organization-events`).
    ///
    /// Linking a membership to a user or organization that arrives later is a race between two
    /// transactions that cannot see each other's uncommitted rows; both sides take the same transaction
    /// advisory lock, so whichever commits second sees the other's row. Organizations lock their own id
    /// (`clerk_org_lock`); users lock one of 128 buckets (`clerk_user_link_lock`), so a bulk insert of users
    /// (backfill) takes at most 128 locks, in bucket order, instead of one per row.
    static let organizationSyncFunctions = """
        CREATE FUNCTION clerk_org_lock(p_kind text, p_environment text, p_clerk_id text) RETURNS void
        LANGUAGE sql AS $fn$
            SELECT pg_advisory_xact_lock(1869768551, hashtext(p_kind || ':' || p_environment || ':' || p_clerk_id));
        $fn$;

        CREATE FUNCTION clerk_user_link_lock(p_environment text, p_clerk_user_id text) RETURNS void
        LANGUAGE sql AS $fn$
            SELECT pg_advisory_xact_lock(1869768552, hashtext(p_environment || ':' || p_clerk_user_id) & 127);
        $fn$;

        -- Every new user row (webhook, backfill or a token's just-in-time row) adopts its waiting memberships;
        -- once per statement, taking its bucket locks in order (a bulk insert takes at most 128, never one per row).
        CREATE FUNCTION clerk_link_user_memberships() RETURNS trigger
        LANGUAGE plpgsql AS $fn$
        BEGIN
            PERFORM pg_advisory_xact_lock(1869768552, t.bucket)
               FROM (SELECT DISTINCT hashtext(n.environment || ':' || n.clerk_user_id) & 127 AS bucket
                       FROM new_users n ORDER BY 1) t;
            UPDATE organization_memberships m SET user_id = n.id
              FROM new_users n
             WHERE m.clerk_user_id = n.clerk_user_id AND m.environment = n.environment AND m.user_id IS NULL;
            RETURN NULL;
        END
        $fn$;
        CREATE TRIGGER users_link_memberships AFTER INSERT ON users REFERENCING NEW TABLE AS new_users
            FOR EACH STATEMENT EXECUTE FUNCTION clerk_link_user_memberships();

        CREATE FUNCTION clerk_apply_organization_event(
            p_delivery_id text, p_environment text, p_event_type text, p_clerk_org_id text,
            p_name text, p_slug text, p_image_url text, p_public_metadata text,
            p_body text, p_created_ms bigint, p_updated_ms bigint)
        RETURNS TABLE (o_outcome text, o_organization_id uuid)
        LANGUAGE plpgsql AS $fn$
        DECLARE
            v_org organizations%ROWTYPE;
            v_id uuid;
            v_created timestamptz := to_timestamp(p_created_ms / 1000.0);
            v_updated timestamptz := to_timestamp(p_updated_ms / 1000.0);
            v_changed jsonb;
            v_members integer;
        BEGIN
            INSERT INTO webhook_deliveries (svix_id, environment, event_type, processed_at)
            VALUES (p_delivery_id, p_environment, p_event_type, now())
            ON CONFLICT (svix_id, environment) DO NOTHING;
            IF NOT FOUND THEN
                SELECT o.id INTO v_id FROM organizations o
                 WHERE o.clerk_org_id = p_clerk_org_id AND o.environment = p_environment;
                o_outcome := 'duplicate'; o_organization_id := v_id;
                RETURN NEXT;
                RETURN;
            END IF;
            -- Serialises with memberships of this organization (see clerk_org_lock).
            PERFORM clerk_org_lock('organization', p_environment, p_clerk_org_id);

            SELECT * INTO v_org FROM organizations o
             WHERE o.clerk_org_id = p_clerk_org_id AND o.environment = p_environment FOR UPDATE;
            IF NOT FOUND THEN
                IF p_event_type = 'organization.deleted' THEN
                    -- A tombstone, so that a late organization.created cannot bring it back.
                    INSERT INTO organizations (clerk_org_id, environment, slug, deleted_at)
                    VALUES (p_clerk_org_id, p_environment, p_slug, now())
                    ON CONFLICT (clerk_org_id, environment) DO NOTHING RETURNING id INTO v_id;
                ELSE
                    INSERT INTO organizations (clerk_org_id, environment, name, slug, image_url, public_metadata,
                                               raw_payload, clerk_created_at, clerk_updated_at)
                    VALUES (p_clerk_org_id, p_environment, p_name, p_slug, p_image_url, p_public_metadata::jsonb,
                            p_body::jsonb -> 'data', v_created, v_updated)
                    ON CONFLICT (clerk_org_id, environment) DO NOTHING RETURNING id INTO v_id;
                END IF;
                IF v_id IS NOT NULL THEN
                    -- Memberships that came first now belong to it (and share its fate when it is a tombstone).
                    UPDATE organization_memberships
                       SET organization_id = v_id,
                           deleted_at = CASE WHEN p_event_type = 'organization.deleted' THEN coalesce(deleted_at, now()) ELSE deleted_at END
                     WHERE clerk_org_id = p_clerk_org_id AND environment = p_environment AND organization_id IS NULL;
                    INSERT INTO outbox (queue, payload) VALUES ('organization-events', jsonb_build_object(
                        'type', CASE WHEN p_event_type = 'organization.deleted' THEN 'organization.deleted' ELSE 'organization.created' END,
                        'organizationId', v_id, 'clerkOrgId', p_clerk_org_id, 'environment', p_environment,
                        'changed', CASE WHEN p_event_type = 'organization.deleted' THEN '{}'::jsonb
                                        ELSE jsonb_build_object('name', p_name, 'slug', p_slug, 'image_url', p_image_url) END));
                    UPDATE webhook_deliveries SET outcome = 'processed'
                     WHERE svix_id = p_delivery_id AND environment = p_environment;
                    o_outcome := 'processed'; o_organization_id := v_id;
                    RETURN NEXT;
                    RETURN;
                END IF;
                SELECT * INTO v_org FROM organizations o
                 WHERE o.clerk_org_id = p_clerk_org_id AND o.environment = p_environment FOR UPDATE;
            END IF;

            IF p_event_type = 'organization.deleted' THEN
                IF v_org.deleted_at IS NULL THEN
                    UPDATE organizations SET public_metadata = NULL, raw_payload = NULL, deleted_at = now(), updated_at = now()
                     WHERE id = v_org.id;
                    UPDATE organization_memberships SET deleted_at = now()
                     WHERE (organization_id = v_org.id OR (clerk_org_id = p_clerk_org_id AND environment = p_environment))
                       AND deleted_at IS NULL;
                    GET DIAGNOSTICS v_members = ROW_COUNT;
                    INSERT INTO outbox (queue, payload) VALUES ('organization-events', jsonb_build_object(
                        'type', 'organization.deleted', 'organizationId', v_org.id, 'clerkOrgId', p_clerk_org_id,
                        'environment', p_environment, 'changed', '{}'::jsonb, 'membershipsDeleted', v_members));
                END IF;
                o_outcome := 'processed';
            ELSIF v_org.deleted_at IS NOT NULL
               OR (v_updated IS NOT NULL AND v_org.clerk_updated_at IS NOT NULL AND v_updated < v_org.clerk_updated_at) THEN
                o_outcome := 'stale';
            ELSE
                v_changed := '{}'::jsonb;
                IF v_org.name IS DISTINCT FROM p_name THEN v_changed := v_changed || jsonb_build_object('name', p_name); END IF;
                IF v_org.slug IS DISTINCT FROM p_slug THEN v_changed := v_changed || jsonb_build_object('slug', p_slug); END IF;
                IF v_org.image_url IS DISTINCT FROM p_image_url THEN v_changed := v_changed || jsonb_build_object('image_url', p_image_url); END IF;
                IF v_org.public_metadata IS DISTINCT FROM p_public_metadata::jsonb THEN
                    v_changed := v_changed || jsonb_build_object('public_metadata', p_public_metadata::jsonb);
                END IF;
                IF v_changed <> '{}'::jsonb THEN
                    INSERT INTO outbox (queue, payload) VALUES ('organization-events', jsonb_build_object(
                        'type', 'organization.updated', 'organizationId', v_org.id, 'clerkOrgId', p_clerk_org_id,
                        'environment', p_environment, 'changed', v_changed));
                END IF;
                UPDATE organizations SET name = p_name, slug = p_slug, image_url = p_image_url,
                                         public_metadata = p_public_metadata::jsonb, raw_payload = p_body::jsonb -> 'data',
                                         clerk_created_at = coalesce(v_created, clerk_created_at),
                                         clerk_updated_at = coalesce(v_updated, clerk_updated_at), updated_at = now()
                 WHERE id = v_org.id;
                o_outcome := 'processed';
            END IF;
            UPDATE webhook_deliveries SET outcome = o_outcome
             WHERE svix_id = p_delivery_id AND environment = p_environment;
            o_organization_id := v_org.id;
            RETURN NEXT;
        END
        $fn$;

        CREATE FUNCTION clerk_apply_membership_event(
            p_delivery_id text, p_environment text, p_event_type text, p_clerk_membership_id text,
            p_clerk_org_id text, p_clerk_user_id text, p_role text, p_permissions text[],
            p_created_ms bigint, p_updated_ms bigint)
        RETURNS TABLE (o_outcome text, o_membership_id uuid)
        LANGUAGE plpgsql AS $fn$
        DECLARE
            v_m organization_memberships%ROWTYPE;
            v_id uuid;
            v_org_id uuid;
            v_org_deleted boolean := false;
            v_user_id uuid;
            v_created timestamptz := to_timestamp(p_created_ms / 1000.0);
            v_updated timestamptz := to_timestamp(p_updated_ms / 1000.0);
            v_deleting boolean := p_event_type = 'organizationMembership.deleted';
        BEGIN
            INSERT INTO webhook_deliveries (svix_id, environment, event_type, clerk_user_id, processed_at)
            VALUES (p_delivery_id, p_environment, p_event_type, p_clerk_user_id, now())
            ON CONFLICT (svix_id, environment) DO NOTHING;
            IF NOT FOUND THEN
                SELECT m.id INTO v_id FROM organization_memberships m
                 WHERE m.clerk_membership_id = p_clerk_membership_id AND m.environment = p_environment;
                o_outcome := 'duplicate'; o_membership_id := v_id;
                RETURN NEXT;
                RETURN;
            END IF;
            -- Always organization before user, so that two of these never wait on each other.
            IF p_clerk_org_id IS NOT NULL THEN
                PERFORM clerk_org_lock('organization', p_environment, p_clerk_org_id);
                SELECT o.id, o.deleted_at IS NOT NULL INTO v_org_id, v_org_deleted FROM organizations o
                 WHERE o.clerk_org_id = p_clerk_org_id AND o.environment = p_environment;
                v_org_deleted := coalesce(v_org_deleted, false);
            END IF;
            IF p_clerk_user_id IS NOT NULL THEN
                PERFORM clerk_user_link_lock(p_environment, p_clerk_user_id);
                SELECT u.id INTO v_user_id FROM users u
                 WHERE u.clerk_user_id = p_clerk_user_id AND u.environment = p_environment;
            END IF;

            SELECT * INTO v_m FROM organization_memberships m
             WHERE m.clerk_membership_id = p_clerk_membership_id AND m.environment = p_environment FOR UPDATE;
            IF NOT FOUND THEN
                IF v_org_deleted AND NOT v_deleting THEN
                    -- The organization is gone: its memberships never come back.
                    o_outcome := 'stale';
                ELSE
                    INSERT INTO organization_memberships (clerk_membership_id, environment, organization_id, user_id,
                                                          clerk_org_id, clerk_user_id, role, permissions,
                                                          clerk_created_at, clerk_updated_at, deleted_at)
                    VALUES (p_clerk_membership_id, p_environment, v_org_id, v_user_id, p_clerk_org_id, p_clerk_user_id,
                            p_role, coalesce(p_permissions, '{}'), v_created, v_updated,
                            CASE WHEN v_deleting THEN now() END)
                    ON CONFLICT (clerk_membership_id, environment) DO NOTHING RETURNING id INTO v_id;
                    IF v_id IS NOT NULL THEN
                        INSERT INTO outbox (queue, payload) VALUES ('organization-events', jsonb_build_object(
                            'type', CASE WHEN v_deleting THEN 'organizationMembership.deleted' ELSE 'organizationMembership.created' END,
                            'membershipId', v_id, 'clerkMembershipId', p_clerk_membership_id, 'environment', p_environment,
                            'organizationId', v_org_id, 'clerkOrgId', p_clerk_org_id, 'userId', v_user_id,
                            'clerkUserId', p_clerk_user_id, 'role', p_role));
                        o_outcome := 'processed';
                    ELSE
                        SELECT * INTO v_m FROM organization_memberships m
                         WHERE m.clerk_membership_id = p_clerk_membership_id AND m.environment = p_environment FOR UPDATE;
                    END IF;
                END IF;
                IF o_outcome IS NOT NULL THEN
                    UPDATE webhook_deliveries SET outcome = o_outcome
                     WHERE svix_id = p_delivery_id AND environment = p_environment;
                    o_membership_id := v_id;
                    RETURN NEXT;
                    RETURN;
                END IF;
            END IF;

            IF v_deleting THEN
                IF v_m.deleted_at IS NULL THEN
                    UPDATE organization_memberships SET deleted_at = now(),
                           organization_id = coalesce(organization_id, v_org_id), user_id = coalesce(user_id, v_user_id)
                     WHERE id = v_m.id;
                    INSERT INTO outbox (queue, payload) VALUES ('organization-events', jsonb_build_object(
                        'type', 'organizationMembership.deleted', 'membershipId', v_m.id,
                        'clerkMembershipId', p_clerk_membership_id, 'environment', p_environment,
                        'organizationId', coalesce(v_m.organization_id, v_org_id), 'clerkOrgId', v_m.clerk_org_id,
                        'userId', coalesce(v_m.user_id, v_user_id), 'clerkUserId', v_m.clerk_user_id, 'role', v_m.role));
                END IF;
                o_outcome := 'processed';
            ELSIF v_m.deleted_at IS NOT NULL OR v_org_deleted
               OR (v_updated IS NOT NULL AND v_m.clerk_updated_at IS NOT NULL AND v_updated < v_m.clerk_updated_at) THEN
                o_outcome := 'stale';
            ELSE
                IF v_m.role IS DISTINCT FROM p_role OR v_m.permissions IS DISTINCT FROM coalesce(p_permissions, '{}') THEN
                    INSERT INTO outbox (queue, payload) VALUES ('organization-events', jsonb_build_object(
                        'type', 'organizationMembership.updated', 'membershipId', v_m.id,
                        'clerkMembershipId', p_clerk_membership_id, 'environment', p_environment,
                        'organizationId', coalesce(v_m.organization_id, v_org_id), 'clerkOrgId', coalesce(p_clerk_org_id, v_m.clerk_org_id),
                        'userId', coalesce(v_m.user_id, v_user_id), 'clerkUserId', coalesce(p_clerk_user_id, v_m.clerk_user_id),
                        'role', p_role, 'previousRole', v_m.role));
                END IF;
                UPDATE organization_memberships
                   SET role = p_role, permissions = coalesce(p_permissions, '{}'),
                       organization_id = coalesce(organization_id, v_org_id), user_id = coalesce(user_id, v_user_id),
                       clerk_org_id = coalesce(clerk_org_id, p_clerk_org_id), clerk_user_id = coalesce(clerk_user_id, p_clerk_user_id),
                       clerk_created_at = coalesce(v_created, clerk_created_at),
                       clerk_updated_at = coalesce(v_updated, clerk_updated_at)
                 WHERE id = v_m.id;
                o_outcome := 'processed';
            END IF;
            UPDATE webhook_deliveries SET outcome = o_outcome
             WHERE svix_id = p_delivery_id AND environment = p_environment;
            o_membership_id := v_m.id;
            RETURN NEXT;
        END
        $fn$;
        """
}
