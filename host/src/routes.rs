//! HTTP routing with Spin's route syntax, and the `spin-*` request headers Spin sets.
//!
//! Syntax: an exact path (`/api/time`), a trailing wildcard (`/api/health/...`, also `/...`),
//! named single-segment parameters (`/events/:id`), and both (`/users/:id/...`). When several
//! routes match, the most specific wins: a route without a trailing wildcard beats one with it,
//! then the route with more segments, then the one with more literal segments.

use anyhow::{Result, bail, ensure};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

/// One parsed `route = "..."` of an HTTP trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePattern {
    raw: String,
    segments: Vec<Segment>,
    trailing_wildcard: bool,
}

impl RoutePattern {
    pub fn parse(raw: &str) -> Result<Self> {
        ensure!(raw.starts_with('/'), "route `{raw}` must start with `/`");
        let (body, trailing_wildcard) = match raw.strip_suffix("/...") {
            Some(prefix) => (prefix, true),
            None => (raw, false),
        };
        let mut segments = Vec::new();
        for part in body.split('/').skip(1) {
            if part.is_empty() {
                // "/" alone, or a trailing slash: no segment.
                continue;
            }
            if let Some(name) = part.strip_prefix(':') {
                ensure!(
                    !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
                    "route `{raw}` has an invalid parameter `{part}`"
                );
                if segments
                    .iter()
                    .any(|s| matches!(s, Segment::Param(n) if n == name))
                {
                    bail!("route `{raw}` uses parameter `{name}` twice");
                }
                segments.push(Segment::Param(name.to_string()));
            } else {
                ensure!(
                    !part.contains("..."),
                    "route `{raw}`: `...` is only allowed at the end, as `/...`"
                );
                segments.push(Segment::Literal(part.to_string()));
            }
        }
        Ok(Self {
            raw: raw.to_string(),
            segments,
            trailing_wildcard,
        })
    }

    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The route without its trailing wildcard (Spin's `spin-component-route`).
    pub fn without_wildcard(&self) -> &str {
        self.raw.strip_suffix("/...").unwrap_or(&self.raw)
    }

    /// Matches a request path (already stripped of the base path).
    fn matches(&self, path: &str) -> Option<RouteMatch> {
        let parts: Vec<&str> = path.split('/').skip(1).filter(|p| !p.is_empty()).collect();
        if parts.len() < self.segments.len()
            || (!self.trailing_wildcard && parts.len() != self.segments.len())
        {
            return None;
        }
        let mut params = Vec::new();
        for (segment, part) in self.segments.iter().zip(&parts) {
            match segment {
                Segment::Literal(l) if l == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => params.push((name.clone(), (*part).to_string())),
            }
        }
        let path_info = if self.trailing_wildcard {
            let rest = &parts[self.segments.len()..];
            if rest.is_empty() {
                String::new()
            } else {
                format!("/{}", rest.join("/"))
            }
        } else {
            String::new()
        };
        Some(RouteMatch { params, path_info })
    }

    fn specificity(&self) -> (bool, usize, usize) {
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        (!self.trailing_wildcard, self.segments.len(), literals)
    }
}

/// What a match yields: parameters in route order, and the path below a trailing wildcard.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouteMatch {
    pub params: Vec<(String, String)>,
    pub path_info: String,
}

/// The application's routes, each pointing at a component index.
#[derive(Debug, Clone, Default)]
pub struct Router {
    base: String,
    routes: Vec<(RoutePattern, usize)>,
}

/// A routed request: which component, which route, and the captured parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed<'a> {
    pub component: usize,
    pub route: &'a RoutePattern,
    pub matched: RouteMatch,
}

impl Router {
    pub fn new(base: &str, routes: Vec<(RoutePattern, usize)>) -> Self {
        let base = base.trim_end_matches('/').to_string();
        Self { base, routes }
    }

    pub fn base(&self) -> &str {
        if self.base.is_empty() {
            "/"
        } else {
            &self.base
        }
    }

    pub fn route(&self, path: &str) -> Option<Routed<'_>> {
        let path = if self.base.is_empty() {
            path
        } else {
            let rest = path.strip_prefix(&self.base)?;
            if !(rest.is_empty() || rest.starts_with('/')) {
                return None;
            }
            rest
        };
        let path = if path.is_empty() { "/" } else { path };
        self.routes
            .iter()
            .filter_map(|(pattern, component)| {
                pattern.matches(path).map(|matched| Routed {
                    component: *component,
                    route: pattern,
                    matched,
                })
            })
            .max_by_key(|r| r.route.specificity())
    }

    /// The `spin-*` headers Spin adds to a routed request.
    pub fn spin_headers(
        &self,
        routed: &Routed<'_>,
        full_url: &str,
        client_addr: &str,
    ) -> Vec<(String, String)> {
        let base = self.base();
        let joined = |route: &str| {
            if self.base.is_empty() {
                route.to_string()
            } else {
                format!("{}{route}", self.base)
            }
        };
        let mut headers = vec![
            ("spin-full-url".to_string(), full_url.to_string()),
            (
                "spin-path-info".to_string(),
                routed.matched.path_info.clone(),
            ),
            ("spin-matched-route".to_string(), joined(routed.route.raw())),
            (
                "spin-component-route".to_string(),
                routed.route.without_wildcard().to_string(),
            ),
            (
                "spin-raw-component-route".to_string(),
                routed.route.raw().to_string(),
            ),
            ("spin-base-path".to_string(), base.to_string()),
            ("spin-client-addr".to_string(), client_addr.to_string()),
        ];
        for (name, value) in &routed.matched.params {
            headers.push((
                format!(
                    "spin-path-match-{}",
                    name.replace('_', "-").to_ascii_lowercase()
                ),
                value.clone(),
            ));
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[&str]) -> Router {
        Router::new(
            "/",
            routes
                .iter()
                .enumerate()
                .map(|(i, r)| (RoutePattern::parse(r).expect("valid route"), i))
                .collect(),
        )
    }

    fn winner(r: &Router, path: &str) -> Option<String> {
        r.route(path).map(|m| m.route.raw().to_string())
    }

    #[test]
    fn an_exact_route_beats_a_wildcard() {
        let r = router(&["/api/...", "/api/time"]);
        assert_eq!(winner(&r, "/api/time").as_deref(), Some("/api/time"));
        assert_eq!(winner(&r, "/api/other").as_deref(), Some("/api/..."));
        assert_eq!(winner(&r, "/api").as_deref(), Some("/api/..."));
        assert_eq!(winner(&r, "/apix"), None);
    }

    #[test]
    fn the_longest_wildcard_wins() {
        let r = router(&["/...", "/api/v1/...", "/api/v1/queue/..."]);
        assert_eq!(
            winner(&r, "/api/v1/queue/status/1").as_deref(),
            Some("/api/v1/queue/...")
        );
        assert_eq!(winner(&r, "/api/v1/events").as_deref(), Some("/api/v1/..."));
        assert_eq!(winner(&r, "/favicon.ico").as_deref(), Some("/..."));
        assert_eq!(winner(&r, "/").as_deref(), Some("/..."));
    }

    #[test]
    fn parameters_capture_one_segment_and_lose_to_literals() {
        let r = router(&[
            "/api/v1/events/:id",
            "/api/v1/events/featured",
            "/api/events/:id",
        ]);
        let m = r.route("/api/v1/events/42").expect("matches");
        assert_eq!(m.route.raw(), "/api/v1/events/:id");
        assert_eq!(m.matched.params, vec![("id".to_string(), "42".to_string())]);
        assert_eq!(
            winner(&r, "/api/v1/events/featured").as_deref(),
            Some("/api/v1/events/featured")
        );
        assert_eq!(
            winner(&r, "/api/events/7").as_deref(),
            Some("/api/events/:id")
        );
        assert_eq!(winner(&r, "/api/v1/events/42/seats"), None);
        assert_eq!(winner(&r, "/api/v1/events"), None);
    }

    #[test]
    fn a_parameter_route_without_wildcard_beats_a_shorter_wildcard() {
        let r = router(&["/api/v1/...", "/api/v1/seats/events/:event_id"]);
        let m = r.route("/api/v1/seats/events/abc").expect("matches");
        assert_eq!(m.route.raw(), "/api/v1/seats/events/:event_id");
        assert_eq!(
            winner(&r, "/api/v1/seats/events/abc/x").as_deref(),
            Some("/api/v1/...")
        );
    }

    #[test]
    fn spin_headers_follow_spin() {
        let r = router(&["/users/:user_id/..."]);
        let m = r.route("/users/alice/posts/1").expect("matches");
        let headers = r.spin_headers(&m, "http://h/users/alice/posts/1?x=1", "127.0.0.1:5000");
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("spin-path-info"), Some("/posts/1"));
        assert_eq!(get("spin-matched-route"), Some("/users/:user_id/..."));
        assert_eq!(get("spin-component-route"), Some("/users/:user_id"));
        assert_eq!(get("spin-raw-component-route"), Some("/users/:user_id/..."));
        assert_eq!(get("spin-base-path"), Some("/"));
        assert_eq!(get("spin-path-match-user-id"), Some("alice"));
        assert_eq!(
            get("spin-full-url"),
            Some("http://h/users/alice/posts/1?x=1")
        );
        assert_eq!(get("spin-client-addr"), Some("127.0.0.1:5000"));
    }

    #[test]
    fn a_base_path_prefixes_every_route() {
        let r = Router::new(
            "/base",
            vec![(RoutePattern::parse("/hello/...").expect("valid"), 0)],
        );
        assert!(r.route("/base/hello/x").is_some());
        assert!(r.route("/hello/x").is_none());
        assert!(r.route("/basehello").is_none());
        let m = r.route("/base/hello/x").expect("matches");
        let headers = r.spin_headers(&m, "", "");
        assert!(headers.contains(&("spin-matched-route".into(), "/base/hello/...".into())));
        assert!(headers.contains(&("spin-base-path".into(), "/base".into())));
    }

    #[test]
    fn malformed_routes_are_rejected() {
        for bad in ["api", "/a/.../b", "/a/:", "/a/:x/:x", "/a/:x y"] {
            assert!(
                RoutePattern::parse(bad).is_err(),
                "{bad} should be rejected"
            );
        }
    }

    /// spin.toml must keep the route table of the architecture: every API route under both
    /// `/api/v1/...` and `/api/...`, health routes for the load balancer, and the right component.
    #[test]
    fn spin_toml_routes_follow_the_route_table() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spin.toml");
        let manifest = crate::manifest::Manifest::load(&path).expect("spin.toml parses");
        let router = Router::new(
            &manifest.base,
            manifest
                .triggers
                .iter()
                .enumerate()
                .map(|(i, t)| (t.route.clone(), i))
                .collect(),
        );
        let component_of = |p: &str| {
            router
                .route(p)
                .map(|r| manifest.triggers[r.component].component.clone())
        };
        for (path, component) in [
            ("/health", "health"),
            ("/health/ready", "health"),
            ("/api/health", "health"),
            ("/api/v1/health/ready", "health"),
            ("/api/time", "catalog"),
            ("/api/v1/time", "catalog"),
            ("/api/v1/events", "catalog"),
            (
                "/api/events/0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b",
                "catalog",
            ),
            ("/api/v1/tickets/event/x", "catalog"),
            ("/api/v1/tickets/availability/x", "catalog"),
            ("/api/seats/layouts", "catalog"),
            (
                "/api/v1/queue/check/0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b",
                "queue-join",
            ),
            ("/api/queue/check/x", "queue-join"),
            ("/api/v1/queue/status/x", "queue"),
            ("/api/queue/heartbeat/x", "queue"),
            ("/api/v1/queue/leave/x", "queue"),
            ("/api/v1/queue/admin/x", "queue"),
            ("/api/queue/admin/threshold/x", "queue"),
            ("/api/v1/seats/lock", "seat-lock"),
            ("/api/v1/seats/reserve", "reserve"),
            ("/api/reservations", "reserve"),
            ("/api/v1/reservations/my", "reservations"),
            ("/api/v1/reservations/x", "reservations"),
            ("/api/seats/reservation/x", "reservations"),
            ("/api/v1/seats/events/x", "reservations"),
        ] {
            assert_eq!(component_of(path).as_deref(), Some(component), "{path}");
        }
        assert_eq!(
            component_of("/vwr-api/queue"),
            None,
            "the old waiting room must 404"
        );
        for trigger in &manifest.triggers {
            let raw = trigger.route.raw();
            let twin = if let Some(rest) = raw.strip_prefix("/api/v1/") {
                Some(format!("/api/{rest}"))
            } else {
                raw.strip_prefix("/api/")
                    .map(|rest| format!("/api/v1/{rest}"))
            };
            if let Some(twin) = twin {
                assert!(
                    manifest
                        .triggers
                        .iter()
                        .any(|t| t.route.raw() == twin && t.component == trigger.component),
                    "{raw} has no twin {twin} on component {}",
                    trigger.component
                );
            }
        }
    }
}
