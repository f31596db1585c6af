//! Reads a Spin v2 application manifest (spin.toml): application variables, HTTP triggers,
//! components with their source, variables, allowed outbound hosts and build commands.
//!
//! Parsing is strict where Spin is strict (unknown components in triggers, bad variable names,
//! variables that are neither required nor defaulted) so a manifest that boots here also deploys.

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
struct RawApplication {
    name: String,
    #[serde(default)]
    trigger: RawAppTrigger,
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
}

#[derive(Debug, Deserialize, Default)]
struct RawTool {
    #[serde(default, rename = "urr-edge")]
    urr_edge: HostOptions,
}

#[derive(Debug, Deserialize)]
struct RawBuild {
    command: String,
    workdir: Option<String>,
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
    pub command: String,
    /// Absolute working directory (the manifest's folder joined with `workdir`).
    pub workdir: PathBuf,
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
            for host in &c.allowed_outbound_hosts {
                for reference in variables::template_references(host)
                    .with_context(|| format!("allowed_outbound_hosts of component `{id}`"))?
                {
                    ensure!(
                        c.variables.contains_key(&reference),
                        "allowed_outbound_hosts of component `{id}` refers to `{reference}`, which is not one of its variables"
                    );
                }
            }
            components.push(ComponentDecl {
                source: root.join(&c.source),
                description: c.description,
                allowed_outbound_hosts: c.allowed_outbound_hosts,
                variables: c.variables,
                build: c.build.map(|b| BuildCommand {
                    command: b.command,
                    workdir: root.join(b.workdir.unwrap_or_default()),
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

/// Spin component ids are kebab-case: lowercase letters, digits and single dashes.
fn validate_component_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.ends_with('-')
        && !id.contains("--");
    ensure!(
        ok,
        "component id `{id}` must be kebab-case (lowercase letters, digits, single dashes)"
    );
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
redis_host = "127.0.0.1:6379"
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
    fn an_outbound_template_must_name_a_component_variable() {
        let bad = GOOD.replace("{{ redis_host }}", "{{ other }}");
        assert!(error_of(&bad).contains("not one of its variables"));
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
        for bad in ["Health", "health_x", "-health", "health-", "hea--lth", ""] {
            assert!(
                validate_component_id(bad).is_err(),
                "{bad} should be rejected"
            );
        }
        assert!(validate_component_id("auth-refresh").is_ok());
    }
}
