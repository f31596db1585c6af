//! Spin variables: names, `{{ name }}` templates, and resolution.
//!
//! Resolution order follows Spin's environment provider: an override (the binary collects them
//! from `SPIN_VARIABLE_<NAME>` environment variables; the library takes them as a map, so tests
//! never touch process-global state), then the manifest default. A missing required variable
//! stops boot with a message naming it. Components see only their own component variables.

use anyhow::{Context, Result, bail, ensure};
use std::collections::{BTreeMap, HashMap};

/// The environment-variable prefix Spin uses for variable overrides.
pub const ENV_PREFIX: &str = "SPIN_VARIABLE_";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableDecl {
    pub default: Option<String>,
    pub required: bool,
    pub secret: bool,
}

/// Spin variable names: a lowercase ASCII letter, then lowercase letters, digits and underscores.
pub fn validate_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    ensure!(
        first_ok && rest_ok && !name.ends_with('_') && !name.contains("__"),
        "invalid variable name `{name}`: use lowercase letters, digits and single underscores, starting with a letter"
    );
    Ok(())
}

/// The variable names a template refers to, in order.
pub fn template_references(template: &str) -> Result<Vec<String>> {
    let mut names = Vec::new();
    expand_with(template, |name| {
        names.push(name.to_string());
        Ok(String::new())
    })?;
    Ok(names)
}

/// Expands `{{ name }}` references with `lookup`, reading the template as Spin's `expressions`
/// crate does: an expression is the trimmed text up to the next `}}`, a `{{` without a closing
/// `}}` is an error, and a stray `}}` is just text. What an expression may name is the lookup's
/// decision (Spin: declared application variables, nothing else).
pub fn expand_with(
    template: &str,
    mut lookup: impl FnMut(&str) -> Result<String>,
) -> Result<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .with_context(|| format!("unmatched `{{{{` in template `{template}`"))?;
        out.push_str(&lookup(after[..end].trim())?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Resolves a manifest expression (an `allowed_outbound_hosts` entry) the way Spin does: with
/// the application's variables only. A component variable of the same name does not count.
pub fn resolve_manifest_expression(
    template: &str,
    app: &HashMap<String, String>,
) -> Result<String> {
    expand_with(template, |name| {
        app.get(name).cloned().with_context(|| {
            format!(
                "`{{{{ {name} }}}}` in `{template}` is not an application variable (Spin allows only application variables in manifest expressions)"
            )
        })
    })
}

/// Collects `SPIN_VARIABLE_<NAME>` overrides from an environment listing (lowercased names).
pub fn overrides_from_env(
    env: impl IntoIterator<Item = (String, String)>,
) -> BTreeMap<String, String> {
    env.into_iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(ENV_PREFIX)
                .map(|n| (n.to_ascii_lowercase(), v))
        })
        .collect()
}

/// Resolves every application variable: override, then default; a missing required one fails.
/// Overrides for names the manifest does not declare are rejected, so a typo does not go unnoticed.
pub fn resolve_application(
    decls: &BTreeMap<String, VariableDecl>,
    overrides: &BTreeMap<String, String>,
) -> Result<HashMap<String, String>> {
    for name in overrides.keys() {
        if !decls.contains_key(name) {
            bail!(
                "variable override `{name}` ({ENV_PREFIX}{}) is not declared in the manifest",
                name.to_ascii_uppercase()
            );
        }
    }
    let mut resolved = HashMap::with_capacity(decls.len());
    for (name, decl) in decls {
        let value = match (overrides.get(name), &decl.default) {
            (Some(v), _) => v.clone(),
            (None, Some(d)) => d.clone(),
            (None, None) => bail!(
                "required variable `{name}` is not set (set {ENV_PREFIX}{})",
                name.to_ascii_uppercase()
            ),
        };
        resolved.insert(name.clone(), value);
    }
    Ok(resolved)
}

/// Resolves a component's variables against the resolved application variables.
pub fn resolve_component(
    templates: &BTreeMap<String, String>,
    app: &HashMap<String, String>,
) -> Result<HashMap<String, String>> {
    templates
        .iter()
        .map(|(name, template)| {
            let value = expand_with(template, |r| {
                app.get(r)
                    .cloned()
                    .with_context(|| format!("unknown application variable `{r}`"))
            })
            .with_context(|| format!("component variable `{name}`"))?;
            Ok((name.clone(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decls() -> BTreeMap<String, VariableDecl> {
        BTreeMap::from([
            (
                "greeting".into(),
                VariableDecl {
                    default: Some("hello".into()),
                    required: false,
                    secret: false,
                },
            ),
            (
                "pg_address".into(),
                VariableDecl {
                    default: None,
                    required: true,
                    secret: true,
                },
            ),
        ])
    }

    #[test]
    fn defaults_apply_and_overrides_win() {
        let overrides = BTreeMap::from([("pg_address".into(), "postgres://x".into())]);
        let app = resolve_application(&decls(), &overrides).expect("resolves");
        assert_eq!(app["greeting"], "hello");
        assert_eq!(app["pg_address"], "postgres://x");

        let overrides = BTreeMap::from([
            ("pg_address".into(), "postgres://x".into()),
            ("greeting".into(), "hi".into()),
        ]);
        assert_eq!(
            resolve_application(&decls(), &overrides).expect("resolves")["greeting"],
            "hi"
        );
    }

    #[test]
    fn a_missing_required_variable_names_itself_and_its_env_var() {
        let err = resolve_application(&decls(), &BTreeMap::new())
            .expect_err("must fail")
            .to_string();
        assert!(err.contains("`pg_address`"), "{err}");
        assert!(err.contains("SPIN_VARIABLE_PG_ADDRESS"), "{err}");
    }

    #[test]
    fn an_override_for_an_undeclared_variable_is_rejected() {
        let overrides = BTreeMap::from([("pg_adress".into(), "typo".into())]);
        assert!(resolve_application(&decls(), &overrides).is_err());
    }

    #[test]
    fn env_overrides_are_lowercased_and_filtered() {
        let env = vec![
            ("SPIN_VARIABLE_PG_ADDRESS".to_string(), "p".to_string()),
            ("PATH".to_string(), "/bin".to_string()),
        ];
        assert_eq!(
            overrides_from_env(env),
            BTreeMap::from([("pg_address".into(), "p".into())])
        );
    }

    #[test]
    fn manifest_expressions_see_application_variables_only() {
        let app = HashMap::from([("provider_base_url".to_string(), "http://p:1".to_string())]);
        assert_eq!(
            resolve_manifest_expression("{{ provider_base_url }}", &app).expect("resolves"),
            "http://p:1"
        );
        let err = resolve_manifest_expression("{{ payment_provider_url }}", &app)
            .expect_err("a component variable is not visible here")
            .to_string();
        assert!(err.contains("payment_provider_url"), "{err}");
        assert!(err.contains("application variable"), "{err}");
    }

    #[test]
    fn component_templates_expand_against_application_values() {
        let app = HashMap::from([("greeting".to_string(), "hello".to_string())]);
        let templates = BTreeMap::from([(
            "message".to_string(),
            "{{ greeting }}, {{greeting}}!".to_string(),
        )]);
        assert_eq!(
            resolve_component(&templates, &app).expect("expands")["message"],
            "hello, hello!"
        );
        let bad = BTreeMap::from([("message".to_string(), "{{ missing }}".to_string())]);
        assert!(resolve_component(&bad, &app).is_err());
    }

    #[test]
    fn bad_names_and_bad_templates_are_rejected() {
        for bad in [
            "",
            "Upper",
            "1abc",
            "with-dash",
            "trailing_",
            "double__under",
            "sp ace",
        ] {
            assert!(validate_name(bad).is_err(), "{bad} should be invalid");
        }
        for good in ["a", "redis_address", "key2"] {
            assert!(validate_name(good).is_ok(), "{good} should be valid");
        }
        assert!(template_references("{{ unterminated").is_err());
        assert!(template_references("a {{ x }} {{ y").is_err());
        // As in Spin: a stray `}}` is text, and a name is only checked against what is declared.
        assert_eq!(
            template_references("stray }}").expect("ok"),
            Vec::<String>::new()
        );
        assert_eq!(template_references("{{ Bad }}").expect("ok"), vec!["Bad"]);
        assert_eq!(
            template_references("a{{ x }}b{{y}}}").expect("ok"),
            vec!["x", "y"]
        );
        let app = HashMap::from([("x".to_string(), "1".to_string())]);
        assert!(
            resolve_component(&BTreeMap::from([("v".into(), "{{ Bad }}".into())]), &app).is_err()
        );
    }
}
