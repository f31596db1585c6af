//! Reads a Spin v2 application manifest (spin.toml): application variables, HTTP triggers,
//! components with their source, variables, allowed outbound hosts and build commands.
//!
//! Parsing applies Spin's rules, so a manifest that boots here also deploys: unknown fields are
//! refused (Spin's manifest types deny them), component ids are Spin's kebab-case ids, variable
//! names Spin's lower snake case, a variable is required or defaulted (not both), a component
//! variable refers only to declared application variables, and `allowed_outbound_hosts` use only
//! application variables in their `{{ }}` expressions (Spin's manifest reference: "The only
//! variables permitted in manifest expressions are application variables") and Spin's host
//! grammar (`outbound.rs`). Where Spin would accept a manifest and then fail at run time (a
//! template it cannot resolve denies every outbound connection of the component), this host
//! refuses at boot. Spin fields this host does not implement (`files`, `environment`, key-value
//! stores, ...) are refused by name rather than ignored.

use crate::routes::RoutePattern;
use crate::variables::{self, VariableDecl};
use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    spin_manifest_version: u32,
    application: RawApplication,
    #[serde(default)]
    variables: BTreeMap<String, RawVariable>,
    #[serde(default)]
    trigger: RawTriggers,
    #[serde(default)]
    component: BTreeMap<String, RawComponent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(
    dead_code,
    reason = "descriptive fields Spin accepts and this host does not use"
)]
struct RawApplication {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    authors: Vec<String>,
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    trigger: RawAppTrigger,
    #[serde(default)]
    tool: BTreeMap<String, toml::Table>,
}

#[derive(Debug, Deserialize, Default)]
struct RawAppTrigger {
    #[serde(default)]
    http: RawAppHttp,
}

#[derive(Debug, Deserialize, Default)]
struct RawAppHttp {
    base: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariable {
    #[serde(default)]
    #[expect(dead_code, reason = "documentation only, as in Spin")]
    description: Option<String>,
    default: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    secret: bool,
}

#[derive(Debug, Deserialize, Default)]
struct RawTriggers {
    #[serde(default)]
    http: Vec<RawHttpTrigger>,
}

#[derive(Debug, Deserialize)]
struct RawHttpTrigger {
    route: String,
    component: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    source: String,
    description: Option<String>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    build: Option<RawBuild>,
    /// Host-only knobs (Spin ignores unknown tables under `tool.`): see `HostOptions`.
    #[serde(default)]
    tool: RawTool,
    /// Fields Spin knows and this host does not implement: refused by name when present.
    #[serde(flatten)]
    unsupported: RawUnsupported,
}

/// Component fields of Spin's manifest the local host does not implement. Refusing them keeps
/// "boots here" meaning "behaves the same there".
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawUnsupported {
    environment: Option<toml::Value>,
    files: Option<toml::Value>,
    exclude_files: Option<toml::Value>,
    allowed_http_hosts: Option<toml::Value>,
    key_value_stores: Option<toml::Value>,
    sqlite_databases: Option<toml::Value>,
    ai_models: Option<toml::Value>,
    targets: Option<toml::Value>,
    dependencies_inherit_configuration: Option<toml::Value>,
    dependencies: Option<toml::Value>,
    profile: Option<toml::Value>,
}

impl RawUnsupported {
    fn present(&self) -> Vec<&'static str> {
        [
            ("environment", self.environment.is_some()),
            ("files", self.files.is_some()),
            ("exclude_files", self.exclude_files.is_some()),
            ("allowed_http_hosts", self.allowed_http_hosts.is_some()),
            ("key_value_stores", self.key_value_stores.is_some()),
            ("sqlite_databases", self.sqlite_databases.is_some()),
            ("ai_models", self.ai_models.is_some()),
            ("targets", self.targets.is_some()),
            (
                "dependencies_inherit_configuration",
                self.dependencies_inherit_configuration.is_some(),
            ),
            ("dependencies", self.dependencies.is_some()),
            ("profile", self.profile.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect()
    }
}

#[derive(Debug, Deserialize, Default)]
struct RawTool {
    #[serde(default, rename = "urr-edge")]
    urr_edge: HostOptions,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBuild {
    command: RawCommands,
    workdir: Option<String>,
    /// Globs `spin watch` rebuilds on (relative to `workdir`).
    #[serde(default)]
    watch: Vec<String>,
}

/// One build command, or several run in order (Spin accepts both).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawCommands {
    One(String),
    Many(Vec<String>),
}

/// Per-component settings of the local host, under `[component.X.tool.urr-edge]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HostOptions {
    /// Requests allowed to run at once in this component (default: the host's setting).
    pub max_concurrency: Option<usize>,
    /// Requests allowed to wait for a slot before the host answers 503 (default: the host's).
    pub max_waiting: Option<usize>,
    /// Route deadline in milliseconds (default: the host's).
    pub deadline_ms: Option<u64>,
    /// Largest request body in bytes (default: the host's).
    pub max_body_bytes: Option<usize>,
    /// Reuse instances across requests (default: the host's setting, off). See docs/operations.md.
    pub reuse_instances: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildCommand {
    /// The command for `sh -c`; several commands are joined with `&&` (in order, stopping at the
    /// first failure, as Spin runs them).
    pub command: String,
    /// Absolute working directory (the manifest's folder joined with `workdir`).
    pub workdir: PathBuf,
    /// The `watch` globs, as written.
    pub watch: Vec<String>,
}

/// One component as declared, before variables are resolved.
#[derive(Debug, Clone)]
pub struct ComponentDecl {
    pub id: String,
    pub description: Option<String>,
    pub source: PathBuf,
    pub allowed_outbound_hosts: Vec<String>,
    /// Component variable name -> template over application variables.
    pub variables: BTreeMap<String, String>,
    pub build: Option<BuildCommand>,
    pub options: HostOptions,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerDecl {
    pub route: RoutePattern,
    pub component: String,
}

/// A parsed, validated manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub name: String,
    pub base: String,
    pub variables: BTreeMap<String, VariableDecl>,
    pub components: Vec<ComponentDecl>,
    pub triggers: Vec<TriggerDecl>,
    /// The folder the manifest lives in; relative paths are resolved against it.
    pub root: PathBuf,
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading manifest {}", path.display()))?;
        let root = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        Self::parse(&text, &root).with_context(|| format!("in manifest {}", path.display()))
    }

    pub fn parse(text: &str, root: &Path) -> Result<Self> {
        let raw: RawManifest = toml::from_str(text).context("spin.toml is not valid")?;
        ensure!(
            raw.spin_manifest_version == 2,
            "spin_manifest_version must be 2 (found {})",
            raw.spin_manifest_version
        );

        let mut vars = BTreeMap::new();
        for (name, v) in raw.variables {
            variables::validate_name(&name)
                .with_context(|| format!("application variable `{name}`"))?;
            ensure!(
                v.required || v.default.is_some(),
                "application variable `{name}` must be `required = true` or have a `default`"
            );
            ensure!(
                !(v.required && v.default.is_some()),
                "application variable `{name}` cannot be both required and defaulted"
            );
            vars.insert(
                name,
                VariableDecl {
                    default: v.default,
                    required: v.required,
                    secret: v.secret,
                },
            );
        }

        let mut components = Vec::new();
        for (id, c) in raw.component {
            validate_component_id(&id)?;
            let unsupported = c.unsupported.present();
            ensure!(
                unsupported.is_empty(),
                "component `{id}` uses {} (valid in Spin, not implemented by urr-edge)",
                unsupported.join(", ")
            );
            for (name, template) in &c.variables {
                variables::validate_name(name)
                    .with_context(|| format!("variable `{name}` of component `{id}`"))?;
                for reference in variables::template_references(template)
                    .with_context(|| format!("variable `{name}` of component `{id}`"))?
                {
                    ensure!(
                        vars.contains_key(&reference),
                        "variable `{name}` of component `{id}` refers to undeclared application variable `{reference}`"
                    );
                }
            }
            check_allowed_outbound_hosts(&id, &c.allowed_outbound_hosts, &c.variables, &vars)?;
            components.push(ComponentDecl {
                source: root.join(&c.source),
                description: c.description,
                allowed_outbound_hosts: c.allowed_outbound_hosts,
                variables: c.variables,
                build: c.build.map(|b| BuildCommand {
                    command: match b.command {
                        RawCommands::One(command) => command,
                        RawCommands::Many(commands) => commands.join(" && "),
                    },
                    workdir: root.join(b.workdir.unwrap_or_default()),
                    watch: b.watch,
                }),
                options: c.tool.urr_edge,
                id,
            });
        }

        let mut triggers = Vec::new();
        for t in raw.trigger.http {
            ensure!(
                components.iter().any(|c| c.id == t.component),
                "trigger for route `{}` names unknown component `{}`",
                t.route,
                t.component
            );
            let route = RoutePattern::parse(&t.route)?;
            if let Some(other) = triggers.iter().find(|o: &&TriggerDecl| o.route == route) {
                bail!(
                    "route `{}` is declared twice (components `{}` and `{}`)",
                    t.route,
                    other.component,
                    t.component
                );
            }
            triggers.push(TriggerDecl {
                route,
                component: t.component,
            });
        }

        let base = raw
            .application
            .trigger
            .http
            .base
            .unwrap_or_else(|| "/".to_string());
        ensure!(
            base.starts_with('/'),
            "application.trigger.http.base must start with `/`"
        );
        Ok(Manifest {
            name: raw.application.name,
            base,
            variables: vars,
            components,
            triggers,
            root: root.to_path_buf(),
        })
    }

    pub fn component(&self, id: &str) -> Option<&ComponentDecl> {
        self.components.iter().find(|c| c.id == id)
    }
}

/// `allowed_outbound_hosts` as Spin's loader checks them, plus what Spin only finds out at run
/// time: `insecure:allow-all` alone is refused; every entry is a valid template; a literal entry
/// parses with Spin's grammar; an expression names an application variable (never a component
/// variable, which Spin cannot see there); an entry whose variables all have defaults parses
/// with those defaults. The resolved entries are parsed again at boot with the real values.
fn check_allowed_outbound_hosts(
    id: &str,
    hosts: &[String],
    component_variables: &BTreeMap<String, String>,
    app: &BTreeMap<String, VariableDecl>,
) -> Result<()> {
    let context = || format!("allowed_outbound_hosts of component `{id}`");
    if hosts.len() == 1 && hosts[0] == "insecure:allow-all" {
        crate::outbound::OutboundPolicy::new(hosts).with_context(context)?;
    }
    for host in hosts {
        let references = variables::template_references(host).with_context(context)?;
        for reference in &references {
            if !app.contains_key(reference) {
                let why = if component_variables.contains_key(reference) {
                    "is a component variable; Spin allows only application variables in manifest expressions"
                } else {
                    "is not a declared application variable"
                };
                bail!("{}: `{{{{ {reference} }}}}` in `{host}` {why}", context());
            }
        }
        let defaults: Option<std::collections::HashMap<String, String>> = references
            .iter()
            .map(|r| Some((r.clone(), app.get(r)?.default.clone()?)))
            .collect();
        if let Some(defaults) = defaults {
            let resolved =
                variables::resolve_manifest_expression(host, &defaults).with_context(context)?;
            crate::outbound::AllowedHost::parse(&resolved).with_context(|| {
                format!(
                    "{}: `{host}` with its variables' defaults is `{resolved}`",
                    context()
                )
            })?;
        }
    }
    Ok(())
}

/// Spin's component ids (`KebabId`): words separated by single `-`, each all lowercase or all
/// uppercase ASCII letters and digits (`:` allowed after a word's first character); the first
/// word starts with a letter, later ones with a letter or a digit.
fn validate_component_id(id: &str) -> Result<()> {
    let refuse = |why: String| -> Result<()> {
        bail!("component id `{id}` is not a Spin kebab-case id: {why}")
    };
    if id.is_empty() {
        return refuse("it is empty".into());
    }
    if id.contains('_') {
        return refuse("words must be separated with '-', not '_'".into());
    }
    for (i, word) in id.split('-').enumerate() {
        let mut chars = word.chars();
        let Some(first) = chars.next() else {
            return refuse("'-'-separated words must not be empty".into());
        };
        if !(first.is_ascii_alphabetic() || (i > 0 && first.is_ascii_digit())) {
            return refuse(format!("a word starts with {first:?}"));
        }
        let upper = first.is_ascii_uppercase();
        for c in chars {
            if c.is_ascii_digit() || c == ':' {
                continue;
            }
            if !c.is_ascii_alphanumeric() {
                return refuse(format!("{c:?} is not an ASCII letter, digit or ':'"));
            }
            if c.is_ascii_uppercase() != upper {
                return refuse(format!("the word {word:?} mixes cases"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
spin_manifest_version = 2
[application]
name = "demo"
[variables]
redis_address = { default = "redis://127.0.0.1:6379" }
redis_host = { default = "127.0.0.1:6379", description = "for allowed_outbound_hosts" }
pg_password = { required = true, secret = true }
[[trigger.http]]
route = "/api/health/..."
component = "health"
[[trigger.http]]
route = "/api/events/:id"
component = "health"
[component.health]
source = "target/health.wasm"
allowed_outbound_hosts = ["redis://{{ redis_host }}"]
[component.health.variables]
redis_address = "{{ redis_address }}"
cache_host = "{{ redis_host }}"
[component.health.build]
command = "cargo build"
workdir = "components"
[component.health.tool.urr-edge]
max_concurrency = 8
"#;

    fn parse(text: &str) -> Result<Manifest> {
        Manifest::parse(text, Path::new("/app"))
    }

    fn error_of(text: &str) -> String {
        format!(
            "{:#}",
            parse(text).expect_err("manifest should be rejected")
        )
    }

    #[test]
    fn a_good_manifest_parses_with_paths_relative_to_its_folder() {
        let m = parse(GOOD).expect("parses");
        assert_eq!(m.name, "demo");
        assert_eq!(m.base, "/");
        let c = m.component("health").expect("component");
        assert_eq!(c.source, Path::new("/app/target/health.wasm"));
        assert_eq!(
            c.build.as_ref().map(|b| b.workdir.clone()),
            Some(PathBuf::from("/app/components"))
        );
        assert_eq!(c.options.max_concurrency, Some(8));
        assert_eq!(m.triggers.len(), 2);
        assert!(m.variables["pg_password"].required);
        assert!(m.variables["pg_password"].secret);
    }

    #[test]
    fn a_trigger_naming_an_unknown_component_is_rejected() {
        let bad = GOOD.replace(
            "component = \"health\"\n[[trigger.http]]",
            "component = \"nope\"\n[[trigger.http]]",
        );
        assert!(error_of(&bad).contains("unknown component `nope`"));
    }

    #[test]
    fn a_variable_that_is_neither_required_nor_defaulted_is_rejected() {
        let bad = GOOD.replace(
            "pg_password = { required = true, secret = true }",
            "pg_password = { secret = true }",
        );
        assert!(error_of(&bad).contains("pg_password"));
    }

    #[test]
    fn a_component_variable_referring_to_an_undeclared_variable_is_rejected() {
        let bad = GOOD.replace("\"{{ redis_address }}\"", "\"{{ nowhere }}\"");
        assert!(error_of(&bad).contains("undeclared application variable `nowhere`"));
    }

    #[test]
    fn an_outbound_template_must_name_an_application_variable() {
        // What pay and payments once had: a component variable in the template. Spin resolves
        // manifest expressions with application variables only, so it could never reach it.
        let component_variable =
            GOOD.replace("redis://{{ redis_host }}", "redis://{{ cache_host }}");
        let err = error_of(&component_variable);
        assert!(err.contains("`{{ cache_host }}`"), "{err}");
        assert!(err.contains("component variable"), "{err}");
        assert!(err.contains("only application variables"), "{err}");
        let undeclared = GOOD.replace("redis://{{ redis_host }}", "redis://{{ other }}");
        assert!(error_of(&undeclared).contains("not a declared application variable"));
    }

    #[test]
    fn outbound_entries_follow_spins_grammar() {
        let with = |hosts: &str| {
            GOOD.replace(
                "allowed_outbound_hosts = [\"redis://{{ redis_host }}\"]",
                &format!("allowed_outbound_hosts = {hosts}"),
            )
        };
        assert!(parse(&with(r#"["https://api.example.com", "*://*:*"]"#)).is_ok());
        for bad in [
            r#"["insecure:allow-all"]"#,
            r#"["api.example.com"]"#,
            r#"["https://api.example.com/v1"]"#,
            r#"["https://{{ redis_address"]"#,
            // A template whose defaults resolve to something Spin cannot parse.
            r#"["{{ redis_address }}/0"]"#,
        ] {
            assert!(parse(&with(bad)).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn fields_spin_refuses_or_this_host_lacks_are_refused() {
        let typo = GOOD.replace("allowed_outbound_hosts =", "allowed_outbound_host =");
        assert!(error_of(&typo).contains("allowed_outbound_host"));
        let files = GOOD.replace("source = ", "files = [\"a.txt\"]\nsource = ");
        assert!(error_of(&files).contains("not implemented by urr-edge"));
        let build = GOOD.replace(
            "workdir = \"components\"",
            "workdir = \"components\"\nwatchh = []",
        );
        assert!(error_of(&build).contains("watchh"));
        let app = GOOD.replace("name = \"demo\"", "name = \"demo\"\nversio = \"1\"");
        assert!(error_of(&app).contains("versio"));
    }

    #[test]
    fn build_commands_and_watch_globs_are_read_as_spin_reads_them() {
        let m = parse(&GOOD.replace(
            "command = \"cargo build\"",
            "command = [\"cargo fetch\", \"cargo build\"]\nwatch = [\"src/**/*.rs\"]",
        ))
        .expect("parses");
        let build = m
            .component("health")
            .and_then(|c| c.build.clone())
            .expect("build");
        assert_eq!(build.command, "cargo fetch && cargo build");
        assert_eq!(build.watch, vec!["src/**/*.rs"]);
    }

    #[test]
    fn uppercase_variable_names_are_rejected() {
        let bad = GOOD.replace("redis_address = { default", "Redis = { default");
        assert!(error_of(&bad).contains("Redis"));
    }

    #[test]
    fn duplicate_routes_are_rejected() {
        let bad = GOOD.replace("/api/events/:id", "/api/health/...");
        assert!(error_of(&bad).contains("declared twice"));
    }

    #[test]
    fn malformed_toml_and_wrong_versions_are_rejected() {
        assert!(error_of("spin_manifest_version = ").contains("not valid"));
        assert!(
            error_of(&GOOD.replace("spin_manifest_version = 2", "spin_manifest_version = 1"))
                .contains("must be 2")
        );
        for bad in [
            "Health", "health_x", "-health", "health-", "hea--lth", "", "1abc", "a.b", "HeLLo",
        ] {
            assert!(
                validate_component_id(bad).is_err(),
                "{bad} should be rejected"
            );
        }
        // Spin's KebabId also takes all-uppercase words, digit-led later words and `:`.
        for good in ["auth-refresh", "API-gateway", "v-2", "a1-b2", "ns:x-y"] {
            assert!(
                validate_component_id(good).is_ok(),
                "{good} should be accepted"
            );
        }
    }
}
