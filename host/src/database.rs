//! Database setup for the application: the component roles (cluster-wide, bootstrapped
//! idempotently outside the migrations), the database itself, and the sqlx migrations in
//! `migrations/` (which own every grant).
//!
//! Local and test roles have no password (loopback trust auth); production sets each role's
//! password from the secret store through `URR_ROLE_PASSWORD_<ROLE>` when it runs the bootstrap.

use anyhow::{Context, Result, bail};
use sqlx::{Connection as _, Executor as _, PgConnection};
use std::path::Path;

/// One Postgres role per Postgres-using component (least privilege), and `urr_metrics`, with
/// which the host reads the business counters for `/metrics` and nothing else. spin.toml's
/// `pg_address_<name>` variables name these roles; a test keeps the two in step.
pub const DATABASE_ROLES: [&str; 15] = [
    "urr_health",
    "urr_auth",
    "urr_catalog",
    "urr_queue",
    "urr_booking",
    "urr_booking_read",
    "urr_payments",
    "urr_admin",
    "urr_stats",
    "urr_community",
    "urr_news",
    "urr_metrics",
    "urr_artists",
    "urr_memberships",
    "urr_transfers",
];

/// The environment variable that carries a role's production password.
pub fn password_env(role: &str) -> String {
    format!("URR_ROLE_PASSWORD_{}", role.to_ascii_uppercase())
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The same server URL with another database name (query string kept).
pub fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (authority, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let query = tail
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{scheme}://{authority}/{database}{query}")
}

/// The same server URL as another user, without a password (loopback trust auth).
pub fn as_role(url: &str, role: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let rest = rest.split_once('@').map_or(rest, |(_, r)| r);
    format!("{scheme}://{role}@{rest}")
}

/// Creates every component role that is missing, sets passwords where the environment gives one,
/// and lets the roles connect to `database`. Safe to run any number of times, concurrently too
/// (an advisory lock serializes it).
pub async fn bootstrap_roles(
    admin: &mut PgConnection,
    database: &str,
    passwords: &dyn Fn(&str) -> Option<String>,
) -> Result<()> {
    // Role creation races between concurrent bootstraps (parallel test binaries): serialize it.
    admin.execute("SELECT pg_advisory_lock(7265021)").await?;
    let result = async {
        for role in DATABASE_ROLES {
            let create = format!(
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {lit}) THEN \
                 CREATE ROLE {id} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE; END IF; END $$",
                lit = quote_literal(role),
                id = quote_ident(role)
            );
            admin
                .execute(sqlx::AssertSqlSafe(create))
                .await
                .with_context(|| format!("creating role {role}"))?;
            if let Some(password) = passwords(role) {
                let alter = format!(
                    "ALTER ROLE {} PASSWORD {}",
                    quote_ident(role),
                    quote_literal(&password)
                );
                admin
                    .execute(sqlx::AssertSqlSafe(alter))
                    .await
                    .with_context(|| format!("setting the password of {role}"))?;
            }
            let grant = format!(
                "GRANT CONNECT ON DATABASE {} TO {}",
                quote_ident(database),
                quote_ident(role)
            );
            admin.execute(sqlx::AssertSqlSafe(grant)).await?;
        }
        anyhow::Ok(())
    }
    .await;
    admin.execute("SELECT pg_advisory_unlock(7265021)").await?;
    result
}

/// Creates `database` if it does not exist.
pub async fn ensure_database(admin: &mut PgConnection, database: &str) -> Result<bool> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)")
            .bind(database)
            .fetch_one(&mut *admin)
            .await?;
    if !exists {
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "CREATE DATABASE {}",
                quote_ident(database)
            )))
            .await
            .with_context(|| format!("creating database {database}"))?;
    }
    Ok(!exists)
}

/// Applies the migrations in `dir` to the database at `url`.
pub async fn migrate(url: &str, dir: &Path) -> Result<()> {
    let migrator = sqlx::migrate::Migrator::new(dir)
        .await
        .with_context(|| format!("reading migrations from {}", dir.display()))?;
    let mut conn = PgConnection::connect(url)
        .await
        .context("connecting to the application database")?;
    migrator
        .run(&mut conn)
        .await
        .context("applying migrations")?;
    conn.close().await?;
    Ok(())
}

/// The whole setup `urr-edge migrate` (and `up`) performs, given an admin URL on any database
/// of the server and the name of the application database.
pub async fn setup(admin_url: &str, database: &str, migrations: &Path) -> Result<()> {
    setup_with_passwords(admin_url, database, migrations, &|role| {
        std::env::var(password_env(role)).ok()
    })
    .await
}

/// [`setup`] with the role passwords from `passwords` instead of the environment.
pub async fn setup_with_passwords(
    admin_url: &str,
    database: &str,
    migrations: &Path,
    passwords: &dyn Fn(&str) -> Option<String>,
) -> Result<()> {
    if database.is_empty() || database.contains(['"', '\0']) {
        bail!("invalid database name `{database}`");
    }
    let mut admin = PgConnection::connect(admin_url)
        .await
        .context("connecting to PostgreSQL as an administrator")?;
    if ensure_database(&mut admin, database).await? {
        tracing::info!("created database {database}");
    }
    bootstrap_roles(&mut admin, database, passwords).await?;
    admin.close().await?;
    migrate(&with_database(admin_url, database), migrations).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_change_database_and_role_and_keep_the_rest() {
        assert_eq!(
            with_database(
                "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
                "urr"
            ),
            "postgres://postgres@127.0.0.1:5432/urr?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:1", "urr"), "postgres://h:1/urr");
        assert_eq!(
            as_role("postgres://postgres:pw@h:5432/urr", "urr_auth"),
            "postgres://urr_auth@h:5432/urr"
        );
    }

    #[test]
    fn identifiers_and_literals_are_quoted() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }

    #[test]
    fn spin_toml_names_only_known_roles() {
        let manifest = crate::manifest::Manifest::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../spin.toml"),
        )
        .expect("spin.toml parses");
        let mut seen = 0;
        for (name, decl) in &manifest.variables {
            if let Some(suffix) = name.strip_prefix("pg_address_") {
                let role = format!("urr_{suffix}");
                assert!(
                    DATABASE_ROLES.contains(&role.as_str()),
                    "{name} names unknown role {role}"
                );
                let default = decl.default.as_deref().unwrap_or("");
                assert!(
                    default.contains(&format!("//{role}@")),
                    "{name} must connect as {role}: {default}"
                );
                seen += 1;
            }
        }
        assert!(
            seen >= 1,
            "spin.toml should have pg_address_<role> variables"
        );
    }

    #[test]
    fn the_migrations_grant_the_schema_to_every_role() {
        let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
        let mut sql = String::new();
        for entry in std::fs::read_dir(&migrations).expect("migrations") {
            sql += &std::fs::read_to_string(entry.expect("entry").path()).expect("migration");
        }
        for role in DATABASE_ROLES {
            let granted = sql
                .split("GRANT USAGE ON SCHEMA public")
                .skip(1)
                .any(|grant| grant.split(';').next().is_some_and(|g| g.contains(role)));
            assert!(granted, "no migration grants the schema to {role}");
        }
    }
}
