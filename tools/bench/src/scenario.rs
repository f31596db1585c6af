//! What the load generator sends. A `Scenario` turns (worker, sequence number) into a request, so
//! a scenario can give each worker its own identity, walk a script, or carry credentials.
//!
//! Tokens: benchmarks that run the whole application mint access and entry tokens with the run's
//! own keys (`crate::stack::BenchStack`), so they never register users or hash passwords first;
//! `run` against a server started elsewhere takes `--header 'Authorization: Bearer …'`. Flows
//! whose next request depends on the last reply use `crate::load::FlowClient` instead.

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, StatusCode};

/// One request, relative to the target's base URL.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSpec {
    pub method: Method,
    /// Path and query, starting with `/`.
    pub path: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

impl RequestSpec {
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// `method path` with `headers` and, when given, `body` as JSON (with its content type).
    pub fn with_json(
        method: Method,
        path: &str,
        mut headers: Vec<(HeaderName, HeaderValue)>,
        body: Option<&serde_json::Value>,
    ) -> Self {
        let body = match body {
            Some(value) => {
                headers.push((
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ));
                Bytes::from(value.to_string())
            }
            None => Bytes::new(),
        };
        Self {
            method,
            path: path.to_string(),
            headers,
            body,
        }
    }
}

/// A source of requests. Implementations must be cheap: `request` runs on the load generator's
/// hot path.
pub trait Scenario: Send + Sync {
    /// A short name for reports.
    fn name(&self) -> String;
    /// The `seq`-th request of worker `worker` (both count from 0).
    fn request(&self, worker: usize, seq: u64) -> RequestSpec;
    /// Which statuses count as success (2xx by default).
    fn is_success(&self, status: StatusCode) -> bool {
        status.is_success()
    }
}

impl Scenario for Box<dyn Scenario> {
    fn name(&self) -> String {
        self.as_ref().name()
    }

    fn request(&self, worker: usize, seq: u64) -> RequestSpec {
        self.as_ref().request(worker, seq)
    }

    fn is_success(&self, status: StatusCode) -> bool {
        self.as_ref().is_success(status)
    }
}

/// The same request over and over.
pub struct Fixed {
    pub spec: RequestSpec,
}

impl Scenario for Fixed {
    fn name(&self) -> String {
        format!("{} {}", self.spec.method, self.spec.path)
    }

    fn request(&self, _worker: usize, _seq: u64) -> RequestSpec {
        self.spec.clone()
    }
}

/// A script of steps; each worker walks it in order and starts again at the end. `{worker}` and
/// `{seq}` in a step's path or body are replaced by the worker number and its sequence number.
///
/// Script text: one step per line, `METHOD PATH [BODY]`; blank lines and `#` comments are skipped.
/// ```text
/// # browse, then take a number
/// GET /health
/// GET /fixture/incr/worker-{worker}
/// POST /fixture/body-size {"n":{seq}}
/// ```
pub struct Script {
    pub name: String,
    pub steps: Vec<RequestSpec>,
}

impl Script {
    pub fn parse(name: &str, text: &str) -> Result<Self> {
        let mut steps = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.splitn(3, char::is_whitespace);
            let method = parts.next().unwrap_or_default();
            let path = parts.next().unwrap_or_default();
            let body = parts.next().unwrap_or_default().trim();
            let method = Method::from_bytes(method.as_bytes())
                .with_context(|| format!("line {}: bad method `{method}`", n + 1))?;
            if !path.starts_with('/') {
                bail!("line {}: the path must start with `/`", n + 1);
            }
            let mut spec = RequestSpec::get(path);
            spec.method = method;
            if !body.is_empty() {
                spec.body = Bytes::copy_from_slice(body.as_bytes());
                if body.starts_with('{') || body.starts_with('[') {
                    spec.headers.push((
                        http::header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    ));
                }
            }
            steps.push(spec);
        }
        if steps.is_empty() {
            bail!("the script has no steps");
        }
        Ok(Self {
            name: name.to_string(),
            steps,
        })
    }
}

fn fill(template: &str, worker: usize, seq: u64) -> String {
    if !template.contains('{') {
        return template.to_string();
    }
    template
        .replace("{worker}", &worker.to_string())
        .replace("{seq}", &seq.to_string())
}

impl Scenario for Script {
    fn name(&self) -> String {
        format!("script {} ({} steps)", self.name, self.steps.len())
    }

    fn request(&self, worker: usize, seq: u64) -> RequestSpec {
        let index = (seq % self.steps.len() as u64) as usize;
        let mut spec = self.steps[index].clone();
        spec.path = fill(&spec.path, worker, seq);
        if !spec.body.is_empty()
            && let Ok(text) = std::str::from_utf8(&spec.body)
            && text.contains('{')
        {
            spec.body = Bytes::from(fill(text, worker, seq));
        }
        spec
    }
}

/// Another scenario with extra headers on every request (`--header`). A token-minting scenario
/// will have this shape, with per-worker values.
pub struct WithHeaders<S> {
    pub inner: S,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl<S: Scenario> Scenario for WithHeaders<S> {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn request(&self, worker: usize, seq: u64) -> RequestSpec {
        let mut spec = self.inner.request(worker, seq);
        spec.headers.extend(self.headers.iter().cloned());
        spec
    }

    fn is_success(&self, status: StatusCode) -> bool {
        self.inner.is_success(status)
    }
}

/// `Name: value` (as curl's `-H`).
pub fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue)> {
    let (name, value) = text
        .split_once(':')
        .with_context(|| format!("header `{text}` is not `Name: value`"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .with_context(|| format!("bad header name in `{text}`"))?;
    let value = HeaderValue::from_str(value.trim())
        .with_context(|| format!("bad header value in `{text}`"))?;
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_cycle_and_fill_placeholders() -> Result<()> {
        let script = Script::parse(
            "t",
            "# comment\nGET /health\n\nPOST /items/{worker} {\"n\":{seq}}\n",
        )?;
        assert_eq!(script.steps.len(), 2);
        assert_eq!(script.request(3, 0).path, "/health");
        let second = script.request(3, 1);
        assert_eq!(second.method, Method::POST);
        assert_eq!(second.path, "/items/3");
        assert_eq!(&second.body[..], br#"{"n":1}"#);
        assert_eq!(script.request(3, 2).path, "/health");
        assert!(Script::parse("t", "GET health").is_err());
        assert!(Script::parse("t", "# nothing\n").is_err());
        Ok(())
    }

    #[test]
    fn headers_parse_and_apply() -> Result<()> {
        let (name, value) = parse_header("Authorization: Bearer abc")?;
        assert_eq!(name, http::header::AUTHORIZATION);
        assert_eq!(value, "Bearer abc");
        assert!(parse_header("no colon").is_err());
        let s = WithHeaders {
            inner: Fixed {
                spec: RequestSpec::get("/x"),
            },
            headers: vec![(name, value)],
        };
        assert_eq!(s.request(0, 0).headers.len(), 1);
        Ok(())
    }
}
