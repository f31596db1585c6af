//! The OpenAPI description (`docs/openapi.yaml`) as the tests read it, and the conformance check
//! every end-to-end test may use: a real response validated against the schema the spec gives
//! for that operation and status (JSON Schema 2020-12, formats checked).
//!
//! ```ignore
//! use urr_tests::openapi::{assert_conforms, spec};
//! let (status, body) = app.get_json("/api/v1/events").await;
//! assert_conforms(spec(), "GET", "/api/v1/events", status, &body);
//! ```
//!
//! A status the operation does not document fails too: the spec lists every status a route
//! answers on purpose (there is no `default` response to hide behind).

use anyhow::{Context, Result, anyhow, bail, ensure};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The spec's location in the repository.
pub const SPEC_PATH: &str = "docs/openapi.yaml";

/// The dialect OpenAPI 3.1 schemas are written in.
const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The HTTP methods a path item may describe.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A parsed OpenAPI document.
#[derive(Debug, Clone)]
pub struct OpenApi {
    doc: Value,
    /// Compiled validators by schema text: every answer of every end-to-end test is checked, and
    /// compiling the spec's components for each would cost more than the tests themselves.
    validators: Arc<Mutex<HashMap<String, Arc<jsonschema::Validator>>>>,
}

/// The repository's spec, parsed once per test binary.
pub fn spec() -> &'static OpenApi {
    static SPEC: std::sync::OnceLock<OpenApi> = std::sync::OnceLock::new();
    SPEC.get_or_init(|| {
        OpenApi::load(&crate::repo_root().join(SPEC_PATH))
            .unwrap_or_else(|e| panic!("{SPEC_PATH} does not load: {e:#}"))
    })
}

/// Where a response's body schema lives, and for which media type.
#[derive(Debug, Clone, PartialEq)]
pub struct BodySchema<'a> {
    pub media_type: &'a str,
    pub schema: &'a Value,
}

impl OpenApi {
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text)
    }

    /// YAML into JSON values (a number used as a key, such as an unquoted `200:`, becomes text).
    pub fn parse(text: &str) -> Result<Self> {
        let doc: Value = serde_yaml_ng::from_str(text).context("the spec is not valid YAML")?;
        ensure!(doc.is_object(), "the spec is not a mapping");
        Ok(Self {
            doc,
            validators: Arc::default(),
        })
    }

    pub fn document(&self) -> &Value {
        &self.doc
    }

    /// A local reference (`#/components/schemas/Error`), as a JSON pointer into the document.
    pub fn pointer(&self, reference: &str) -> Result<&Value> {
        let pointer = reference
            .strip_prefix('#')
            .ok_or_else(|| anyhow!("`{reference}` is not a local reference"))?;
        self.doc
            .pointer(pointer)
            .ok_or_else(|| anyhow!("`{reference}` does not resolve"))
    }

    /// Follows `$ref` until an object that is not a reference (bounded: a cycle is an error).
    pub fn resolve<'a>(&'a self, mut value: &'a Value) -> Result<&'a Value> {
        const MAX_HOPS: usize = 16;
        for _ in 0..MAX_HOPS {
            match value.get("$ref").and_then(Value::as_str) {
                Some(reference) => value = self.pointer(reference)?,
                None => return Ok(value),
            }
        }
        bail!("more than {MAX_HOPS} `$ref` hops: a cycle?")
    }

    /// Every path template with its (resolved) path item.
    pub fn paths(&self) -> Result<Vec<(&str, &Value)>> {
        let paths = self
            .doc
            .get("paths")
            .and_then(Value::as_object)
            .ok_or_else(|| anyhow!("the spec has no `paths`"))?;
        paths
            .iter()
            .map(|(template, item)| Ok((template.as_str(), self.resolve(item)?)))
            .collect()
    }

    /// Every operation: (path template, method, operation object).
    pub fn operations(&self) -> Result<Vec<(&str, &'static str, &Value)>> {
        let mut operations = Vec::new();
        for (template, item) in self.paths()? {
            for method in METHODS {
                if let Some(operation) = item.get(method) {
                    operations.push((template, method, operation));
                }
            }
        }
        Ok(operations)
    }

    /// The path template the spec uses for `template`: itself, or for an `/api/...` route its
    /// `/api/v1/...` twin (every route is served under both prefixes).
    fn template(&self, template: &str) -> Result<String> {
        let paths = self.doc.get("paths").and_then(Value::as_object);
        let known = |t: &str| paths.is_some_and(|p| p.contains_key(t));
        if known(template) {
            return Ok(template.to_string());
        }
        let twin = v1_twin(template);
        if known(&twin) {
            return Ok(twin);
        }
        bail!("the spec has no path `{template}`")
    }

    pub fn operation(&self, method: &str, template: &str) -> Result<&Value> {
        let template = self.template(template)?;
        let item = self.resolve(&self.doc["paths"][template.as_str()])?;
        item.get(method.to_ascii_lowercase())
            .ok_or_else(|| anyhow!("the spec has no {method} {template}"))
    }

    /// The response the operation documents for `status` (exact code first, then `4XX`-style).
    pub fn response(&self, method: &str, template: &str, status: u16) -> Result<&Value> {
        let responses = self
            .operation(method, template)?
            .get("responses")
            .and_then(Value::as_object)
            .ok_or_else(|| anyhow!("{method} {template} has no responses"))?;
        let range = format!("{}XX", status / 100);
        let response = responses
            .get(&status.to_string())
            .or_else(|| responses.get(&range))
            .ok_or_else(|| {
                let documented: Vec<&String> = responses.keys().collect();
                anyhow!("{method} {template} does not document status {status} (documents {documented:?})")
            })?;
        self.resolve(response)
    }

    /// The body schema of a response: JSON when it has one, else its only media type; `None`
    /// for a response without a body.
    pub fn body_schema<'a>(&'a self, response: &'a Value) -> Result<Option<BodySchema<'a>>> {
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            return Ok(None);
        };
        let (media_type, media) = content
            .get_key_value("application/json")
            .or_else(|| content.iter().next())
            .ok_or_else(|| anyhow!("a response has an empty `content`"))?;
        let schema = media
            .get("schema")
            .ok_or_else(|| anyhow!("media type {media_type} has no schema"))?;
        Ok(Some(BodySchema { media_type, schema }))
    }

    /// Validates `body` against the schema of `schema_value`, with the spec's components in
    /// scope for its `$ref`s. Returns every violation, one per line.
    pub fn validate(&self, schema: &Value, body: &Value) -> Result<(), String> {
        let key = schema.to_string();
        let cached = self
            .validators
            .lock()
            .ok()
            .and_then(|v| v.get(&key).cloned());
        let validator = match cached {
            Some(validator) => validator,
            None => {
                let validator = Arc::new(self.compile(schema)?);
                if let Ok(mut validators) = self.validators.lock() {
                    validators.insert(key, validator.clone());
                }
                validator
            }
        };
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("  at `{}`: {e}", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("\n"))
        }
    }

    /// A schema of this document as a validator, with the spec's components in scope.
    fn compile(&self, schema: &Value) -> Result<jsonschema::Validator, String> {
        let mut root = Map::new();
        root.insert("$schema".into(), json!(DIALECT));
        root.insert(
            "components".into(),
            self.doc.get("components").cloned().unwrap_or(Value::Null),
        );
        root.insert("allOf".into(), json!([schema]));
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&Value::Object(root))
            .map_err(|e| format!("the schema does not compile: {e}"))
    }

    /// Whether a real answer matches the spec: the status is documented for the operation, and
    /// the body matches that response's schema (a response without `content` has no body:
    /// `Value::Null`). A non-JSON body (the YAML of this spec) is passed as a JSON string.
    pub fn check(
        &self,
        method: &str,
        template: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), String> {
        let response = self
            .response(method, template, status)
            .map_err(|e| format!("{e:#}"))?;
        match self.body_schema(response).map_err(|e| format!("{e:#}"))? {
            None if body.is_null() || body == &json!("") => Ok(()),
            None => Err(format!("the spec says {status} has no body, got {body}")),
            Some(BodySchema { schema, .. }) => self.validate(schema, body),
        }
    }

    /// The spec's path templates a spin.toml route serves. An `/api/...` route is looked up as
    /// its `/api/v1/...` twin; `:name` matches any `{param}`; a trailing `/...` wildcard matches
    /// every template at or below its prefix. Empty: the spec does not describe the route.
    pub fn paths_for_route(&self, route: &str) -> Result<Vec<&str>> {
        let route = v1_twin(route);
        let (prefix, wildcard) = match route.strip_suffix("/...") {
            Some(prefix) => (prefix, true),
            None => (route.as_str(), false),
        };
        let wanted = shape(prefix, |s| s.starts_with(':'));
        Ok(self
            .paths()?
            .into_iter()
            .map(|(template, _)| template)
            .filter(|template| {
                let have = shape(template, |s| s.starts_with('{') && s.ends_with('}'));
                have == wanted || (wildcard && have.starts_with(&format!("{wanted}/")))
            })
            .collect())
    }

    /// The template a concrete request path was served as: `/api/...` paths are read as their
    /// `/api/v1/...` twins; a `{param}` matches one non-empty segment, and where several
    /// templates match, the one with the most literal segments wins (`/reservations/my` over
    /// `/reservations/{id}`), as the router decides. `None`: the spec describes no such path.
    pub fn template_for_path(&self, path: &str) -> Option<&str> {
        let path = v1_twin(path);
        let segments: Vec<&str> = path.split('/').collect();
        self.paths()
            .ok()?
            .into_iter()
            .filter_map(|(template, _)| {
                let parts: Vec<&str> = template.split('/').collect();
                if parts.len() != segments.len() {
                    return None;
                }
                let mut literal = 0;
                for (part, segment) in parts.iter().zip(&segments) {
                    if part.starts_with('{') && part.ends_with('}') {
                        if segment.is_empty() {
                            return None;
                        }
                    } else if part == segment {
                        literal += 1;
                    } else {
                        return None;
                    }
                }
                Some((literal, template))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, template)| template)
    }

    /// Whether one answer the host gave is what the spec says for it: the status is documented,
    /// the body matches its schema and the required headers are there. A 405 must be the error
    /// body with `Allow`. `Ok(false)`: the spec does not describe the request (a path it does
    /// not have, a preflight), so there is nothing to hold it to.
    pub fn check_exchange(
        &self,
        method: &str,
        path: &str,
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) -> Result<bool, String> {
        let Some(template) = self.template_for_path(path) else {
            return Ok(false);
        };
        let body = body_value(headers, body)?;
        if status == 405 {
            return self.check_not_allowed(headers, &body).map(|()| true);
        }
        if self.operation(method, template).is_err() {
            // A method the path does not have is refused with 405 (checked above); a preflight
            // (OPTIONS) is the edge's, described by the CORS tests, not by the spec.
            return if method == "OPTIONS" {
                Ok(false)
            } else {
                Err(format!(
                    "{method} {template} is not in the spec, yet answered {status}"
                ))
            };
        }
        self.check(method, template, status, &body)?;
        let missing = self
            .missing_headers(method, template, status, headers)
            .map_err(|e| format!("{e:#}"))?;
        if missing.is_empty() {
            Ok(true)
        } else {
            Err(format!("lacks the required headers {missing:?}"))
        }
    }

    /// The path template the spec uses for a template a test names (`/api/time` is described
    /// as `/api/v1/time`).
    pub fn spec_path(&self, template: &str) -> Result<String> {
        self.template(template)
    }

    /// The headers the spec marks `required` for this answer that `headers` lacks.
    pub fn missing_headers(
        &self,
        method: &str,
        template: &str,
        status: u16,
        headers: &reqwest::header::HeaderMap,
    ) -> Result<Vec<String>> {
        let mut required = self.required_headers(method, template, status)?;
        required.retain(|name| !headers.contains_key(name.as_str()));
        Ok(required)
    }

    /// A 405 answers a method the spec does not describe for a path, so no operation lists it:
    /// it must name the allowed methods in `Allow` and carry the contract's error body.
    pub fn check_not_allowed(
        &self,
        headers: &reqwest::header::HeaderMap,
        body: &Value,
    ) -> Result<(), String> {
        if !headers.contains_key(reqwest::header::ALLOW) {
            return Err("a 405 without `Allow` naming the allowed methods".into());
        }
        self.validate(&json!({"$ref": "#/components/schemas/Error"}), body)
            .map_err(|violations| format!("the 405 body is not the error body:\n{violations}"))
    }

    /// The response headers the spec marks `required` for this operation and status.
    pub fn required_headers(
        &self,
        method: &str,
        template: &str,
        status: u16,
    ) -> Result<Vec<String>> {
        let response = self.response(method, template, status)?;
        let mut names = Vec::new();
        if let Some(headers) = response.get("headers").and_then(Value::as_object) {
            for (name, header) in headers {
                if self.resolve(header)?.get("required") == Some(&Value::Bool(true)) {
                    names.push(name.clone());
                }
            }
        }
        Ok(names)
    }
}

/// An `/api/...` path as its `/api/v1/...` twin (every route is served under both prefixes);
/// any other path as it is.
fn v1_twin(path: &str) -> String {
    match path.strip_prefix("/api/") {
        Some(rest) if !path.starts_with("/api/v1/") => format!("/api/v1/{rest}"),
        _ => path.to_string(),
    }
}

/// An answer's body as the checks read it: JSON when its content type says so, other text as a
/// JSON string, `Null` when empty.
pub fn body_value(headers: &reqwest::header::HeaderMap, body: &[u8]) -> Result<Value, String> {
    let gzip = headers
        .get(reqwest::header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let inflated;
    let body = if gzip {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(body), &mut out)
            .map_err(|e| format!("invalid gzip body ({e})"))?;
        inflated = out;
        inflated.as_slice()
    } else {
        body
    };
    let json = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if body.is_empty() {
        Ok(Value::Null)
    } else if json {
        serde_json::from_slice(body).map_err(|e| format!("invalid JSON ({e})"))
    } else {
        Ok(Value::String(String::from_utf8_lossy(body).into_owned()))
    }
}

/// A path with every parameter segment written `{}`, so `/events/:id` and `/events/{id}` compare
/// equal.
fn shape(path: &str, is_param: impl Fn(&str) -> bool) -> String {
    path.split('/')
        .map(|segment| if is_param(segment) { "{}" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

/// Panics (with the operation, the status, every violation and the body) unless `body` is what
/// the spec documents for `method path_template` answering `status`.
#[track_caller]
pub fn assert_conforms(
    spec: &OpenApi,
    method: &str,
    path_template: &str,
    status: u16,
    body: &Value,
) {
    if let Err(violations) = spec.check(method, path_template, status, body) {
        panic!(
            "{method} {path_template} → {status} does not conform to {SPEC_PATH}:\n{violations}\nbody: {body}"
        );
    }
}

/// Panics unless every header the spec marks `required` for this answer is present.
#[track_caller]
pub fn assert_headers_conform(
    spec: &OpenApi,
    method: &str,
    path_template: &str,
    status: u16,
    headers: &reqwest::header::HeaderMap,
) {
    let missing = spec
        .missing_headers(method, path_template, status, headers)
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        missing.is_empty(),
        "{method} {path_template} → {status} lacks the headers {missing:?} the spec requires; got {headers:?}"
    );
}

/// A real response, read and checked whole against the spec (status, body, required headers):
/// returns its status, headers and body (JSON, a JSON string for other text, `Null` if empty).
pub async fn conforming(
    spec: &OpenApi,
    method: &str,
    path_template: &str,
    response: reqwest::Response,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("reading {method} {path_template}: {e}"));
    let body = body_value(&headers, &bytes).unwrap_or_else(|e| {
        let text = String::from_utf8_lossy(&bytes);
        panic!("{method} {path_template} sent {e}: {text}")
    });
    assert_conforms(spec, method, path_template, status, &body);
    assert_headers_conform(spec, method, path_template, status, &headers);
    (status, headers, body)
}

/// A 405 is the answer to a method the spec does not describe for a path, so no operation lists
/// it: checks the contract's error body and the `Allow` header instead.
pub async fn assert_method_not_allowed(spec: &OpenApi, what: &str, response: reqwest::Response) {
    assert_eq!(response.status().as_u16(), 405, "{what}");
    let headers = response.headers().clone();
    let body: Value = response
        .json()
        .await
        .unwrap_or_else(|e| panic!("{what}: the 405 body is not JSON: {e}"));
    if let Err(why) = spec.check_not_allowed(&headers, &body) {
        panic!("{what}: {why}\nbody: {body}");
    }
}
