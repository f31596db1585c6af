//! Least privilege, as written: spin.toml against the capability table of docs/operations.md.
//! No servers: the manifest and the document are read as the host and an operator read them.
//! The refusals themselves are proven through the real host in `outbound` and the `42501` checks.

use std::collections::{BTreeMap, BTreeSet};

use urr_edge::manifest::{ComponentDecl, Manifest};
use urr_edge::variables::template_references;

const REDIS_HOSTS: [&str; 2] = ["redis://{{ redis_host }}", "rediss://{{ redis_host }}"];
const POSTGRES_HOST: &str = "postgres://{{ pg_host }}";
/// Store addresses are secrets by nature; the table lists the secrets beyond them.
const STORE_ADDRESS_PREFIXES: [&str; 2] = ["redis_address", "pg_address_"];

/// One row of the table, as the document states it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Capabilities {
    redis: bool,
    postgres: Option<String>,
    outbound: BTreeSet<String>,
    secrets: BTreeSet<String>,
}

fn cell_names(cell: &str) -> BTreeSet<String> {
    cell.split(',')
        .map(|c| c.trim().trim_matches('`').to_string())
        .filter(|c| !c.is_empty() && c != "–")
        .collect()
}

fn documented() -> BTreeMap<String, Capabilities> {
    let text = std::fs::read_to_string(urr_tests::repo_root().join("docs/operations.md"))
        .expect("docs/operations.md");
    let section = text
        .split("## Capabilities (least privilege)")
        .nth(1)
        .expect("a capabilities section")
        .split("\n## ")
        .next()
        .unwrap_or_default();
    let mut rows = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        assert_eq!(cells.len(), 5, "five cells: {line}");
        let postgres = cells[2]
            .split_whitespace()
            .next()
            .map(|c| c.trim_matches('`').to_string())
            .filter(|c| c != "–");
        let row = Capabilities {
            redis: match cells[1] {
                "yes" => true,
                "–" => false,
                other => panic!("Redis cell `{other}` in {line}"),
            },
            postgres,
            outbound: cell_names(cells[3]),
            secrets: cell_names(cells[4]),
        };
        rows.insert(cells[0].trim_matches('`').to_string(), row);
    }
    rows
}

/// What spin.toml grants a component, checked for shape on the way.
fn granted(manifest: &Manifest, component: &ComponentDecl) -> Capabilities {
    let id = &component.id;
    let hosts: BTreeSet<&str> = component
        .allowed_outbound_hosts
        .iter()
        .map(String::as_str)
        .collect();
    for host in &hosts {
        assert!(!host.contains('*'), "{id}: wildcard host `{host}`");
        assert!(
            host.contains("{{"),
            "{id}: host `{host}` is not a variable template"
        );
    }
    let referenced: BTreeSet<String> = component
        .variables
        .values()
        .flat_map(|t| template_references(t).expect("template"))
        .collect();

    let redis_hosts = REDIS_HOSTS.iter().filter(|h| hosts.contains(*h)).count();
    let redis = referenced.contains("redis_address");
    assert_eq!(
        redis_hosts,
        if redis { 2 } else { 0 },
        "{id}: Redis hosts and the `redis_address` variable go together"
    );

    let pg_addresses: Vec<&String> = referenced
        .iter()
        .filter(|v| v.starts_with("pg_address_"))
        .collect();
    assert!(pg_addresses.len() <= 1, "{id}: one Postgres role at most");
    assert_eq!(
        hosts.contains(POSTGRES_HOST),
        !pg_addresses.is_empty(),
        "{id}: the Postgres host and a `pg_address_*` variable go together"
    );

    // Manifest expressions name application variables (Spin sees no component variable there).
    let outbound: BTreeSet<String> = hosts
        .iter()
        .filter(|h| !REDIS_HOSTS.contains(h) && **h != POSTGRES_HOST)
        .flat_map(|h| template_references(h).expect("host template"))
        .inspect(|v| {
            assert!(
                manifest.variables.contains_key(v),
                "{id}: host names `{v}`, not an application variable"
            )
        })
        .collect();

    let secrets: BTreeSet<String> = referenced
        .iter()
        .filter(|v| manifest.variables.get(*v).is_some_and(|d| d.secret))
        .filter(|v| !STORE_ADDRESS_PREFIXES.iter().any(|p| v.starts_with(p)))
        .cloned()
        .collect();
    Capabilities {
        redis,
        postgres: pg_addresses.first().map(|v| (*v).clone()),
        outbound,
        secrets,
    }
}

#[test]
fn spin_toml_grants_exactly_what_the_capability_table_says() {
    let manifest = Manifest::load(&urr_tests::repo_root().join("spin.toml")).expect("spin.toml");
    let table = documented();
    let ids: BTreeSet<&str> = manifest.components.iter().map(|c| c.id.as_str()).collect();
    let rows: BTreeSet<&str> = table.keys().map(String::as_str).collect();
    assert_eq!(ids, rows, "one table row per component of spin.toml");
    for component in &manifest.components {
        assert_eq!(
            granted(&manifest, component),
            table[&component.id],
            "component `{}`: spin.toml (left) against docs/operations.md (right)",
            component.id
        );
    }
    // The signing keys stay where the design puts them.
    for (secret, holders) in [
        ("jwt_signing_key", ["auth", "auth-refresh"]),
        ("queue_signing_key", ["queue-join", "queue"]),
    ] {
        let holding: BTreeSet<&str> = table
            .iter()
            .filter(|(_, row)| row.secrets.contains(secret))
            .map(|(id, _)| id.as_str())
            .collect();
        assert_eq!(holding, BTreeSet::from(holders), "{secret}");
    }
}

/// The checker refuses what it must: it is not a test that cannot fail.
#[test]
fn the_checker_refuses_a_wildcard_host_and_an_undocumented_secret() {
    let manifest = Manifest::load(&urr_tests::repo_root().join("spin.toml")).expect("spin.toml");
    let table = documented();
    let mut seat_lock = manifest
        .components
        .iter()
        .find(|c| c.id == "seat-lock")
        .expect("seat-lock")
        .clone();
    seat_lock
        .variables
        .insert("jwt_signing_key".into(), "{{ jwt_signing_key }}".into());
    assert_ne!(granted(&manifest, &seat_lock), table["seat-lock"]);

    seat_lock.allowed_outbound_hosts.push("https://*".into());
    let wildcard = std::panic::catch_unwind(|| granted(&manifest, &seat_lock));
    assert!(wildcard.is_err(), "a wildcard host must be refused");
}
