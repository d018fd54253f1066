/// The database schema, as versioned migrations. Append; never edit a released one.
public enum Schema {
    /// Every migration, in order.
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "users", sql: """
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
        Migration(version: 2, name: "subscriptions and usage", sql: """
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
        Migration(version: 3, name: "webhook deliveries", sql: """
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
    ]
}
