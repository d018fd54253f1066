extension Schema {
    /// Clerk Billing: subscriptions, their items (one plan for one payer over a period) and payment attempts.
    /// A payer that is not stored yet leaves `user_id`/`organization_id` null until its row arrives.
    static let billingTables = """
        CREATE TABLE billing_subscriptions (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            clerk_subscription_id text NOT NULL,
            environment text NOT NULL,
            clerk_payer_id text,
            clerk_user_id text,
            clerk_org_id text,
            user_id uuid REFERENCES users (id) ON DELETE SET NULL,
            organization_id uuid REFERENCES organizations (id) ON DELETE SET NULL,
            status text NOT NULL,
            active_at timestamptz,
            past_due_at timestamptz,
            canceled_at timestamptz,
            ended_at timestamptz,
            latest_payment_id text,
            clerk_created_at timestamptz,
            clerk_updated_at timestamptz,
            raw_payload jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT billing_subscriptions_clerk_subscription_id_environment_key UNIQUE (clerk_subscription_id, environment)
        );
        CREATE TABLE billing_subscription_items (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            clerk_item_id text NOT NULL,
            environment text NOT NULL,
            clerk_subscription_id text,
            clerk_payer_id text,
            clerk_user_id text,
            clerk_org_id text,
            user_id uuid REFERENCES users (id) ON DELETE SET NULL,
            organization_id uuid REFERENCES organizations (id) ON DELETE SET NULL,
            status text NOT NULL,
            plan_id text,
            plan_slug text,
            plan_name text,
            amount bigint,
            currency text,
            interval text,
            period_start timestamptz,
            period_end timestamptz,
            is_free_trial boolean NOT NULL DEFAULT false,
            clerk_created_at timestamptz,
            clerk_updated_at timestamptz,
            raw_payload jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT billing_subscription_items_clerk_item_id_environment_key UNIQUE (clerk_item_id, environment)
        );
        CREATE TABLE billing_payment_attempts (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            clerk_attempt_id text NOT NULL,
            environment text NOT NULL,
            payment_id text,
            clerk_payer_id text,
            clerk_user_id text,
            clerk_org_id text,
            user_id uuid REFERENCES users (id) ON DELETE SET NULL,
            organization_id uuid REFERENCES organizations (id) ON DELETE SET NULL,
            status text NOT NULL,
            amount bigint,
            currency text,
            failed_code text,
            failed_decline_code text,
            paid_at timestamptz,
            failed_at timestamptz,
            item_ids text[] NOT NULL DEFAULT '{}',
            clerk_created_at timestamptz,
            clerk_updated_at timestamptz,
            raw_payload jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT billing_payment_attempts_clerk_attempt_id_environment_key UNIQUE (clerk_attempt_id, environment)
        );
        CREATE INDEX billing_subscription_items_user_idx ON billing_subscription_items (user_id);
        CREATE INDEX billing_subscriptions_user_idx ON billing_subscriptions (user_id);
        CREATE INDEX billing_payment_attempts_user_idx ON billing_payment_attempts (user_id);
        -- Rows waiting for their payer, found when it arrives.
        CREATE INDEX billing_subscriptions_unlinked_user_idx ON billing_subscriptions (clerk_user_id, environment) WHERE user_id IS NULL;
        CREATE INDEX billing_subscription_items_unlinked_user_idx ON billing_subscription_items (clerk_user_id, environment)
            WHERE user_id IS NULL;
        CREATE INDEX billing_payment_attempts_unlinked_user_idx ON billing_payment_attempts (clerk_user_id, environment)
            WHERE user_id IS NULL;
        CREATE INDEX billing_subscriptions_unlinked_org_idx ON billing_subscriptions (clerk_org_id, environment)
            WHERE organization_id IS NULL;
        CREATE INDEX billing_subscription_items_unlinked_org_idx ON billing_subscription_items (clerk_org_id, environment)
            WHERE organization_id IS NULL;
        CREATE INDEX billing_payment_attempts_unlinked_org_idx ON billing_payment_attempts (clerk_org_id, environment)
            WHERE organization_id IS NULL;

        """
}
