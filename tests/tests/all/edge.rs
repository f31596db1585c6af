//! The edge policy every component applies through `urr_component::edge`: CORS for the configured
//! web origins (preflights answered without touching a store), the security headers, a
//! `Cache-Control` on everything, and the request id. Checked on EVERY route of spin.toml, so a
//! new component that forgets the wrapper fails here.

use reqwest::Method;
use urr_edge::manifest::Manifest;
use urr_tests::{AppOptions, TestApp, repo_root, spawn_app_with};

const WEB: &str = "http://localhost:3000";
const EVIL: &str = "https://evil.example.com";
const SOME_ID: &str = "5e3d0a4c-1b7e-4c2a-9f00-00000000ffff";

/// One concrete path per route of the real spin.toml: parameters get a UUID, wildcards a segment.
fn every_route() -> Vec<String> {
    let manifest = Manifest::load(&repo_root().join("spin.toml")).expect("spin.toml");
    let mut paths: Vec<String> = manifest
        .triggers
        .iter()
        .map(|t| {
            t.route
                .raw()
                .replace("/...", "/x")
                .split('/')
                .map(|s| if s.starts_with(':') { SOME_ID } else { s })
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    paths.sort();
    paths.dedup();
    assert!(paths.len() >= 20, "spin.toml routes: {paths:?}");
    paths
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn app() -> TestApp {
    spawn_app_with(AppOptions::application().variable("allowed_origins", WEB)).await
}

#[tokio::test]
async fn every_route_carries_the_security_headers_cors_and_a_request_id() {
    let app = app().await;
    let mut checked = 0;
    for path in every_route() {
        for (origin, allowed) in [(WEB, true), (EVIL, false)] {
            let response = app
                .client
                .get(format!("{}{path}", app.url))
                .header("origin", origin)
                .header("x-request-id", "edge-test-1")
                .send()
                .await
                .expect("request");
            let status = response.status().as_u16();
            assert!(status < 500, "{path}: {status}");
            for (name, value) in [
                ("x-content-type-options", "nosniff"),
                ("referrer-policy", "strict-origin-when-cross-origin"),
                ("x-frame-options", "DENY"),
                ("x-request-id", "edge-test-1"),
            ] {
                assert_eq!(header(&response, name), Some(value), "{path}: {name}");
            }
            assert!(
                header(&response, "permissions-policy").is_some_and(|p| p.contains("payment=()")),
                "{path}: permissions-policy"
            );
            assert!(
                header(&response, "cache-control").is_some(),
                "{path}: no cache-control"
            );
            let acao = header(&response, "access-control-allow-origin");
            if allowed {
                assert_eq!(acao, Some(WEB), "{path}: allowed origin without CORS");
                assert_eq!(
                    header(&response, "access-control-allow-credentials"),
                    Some("true"),
                    "{path}"
                );
            } else {
                assert_eq!(acao, None, "{path}: CORS granted to a foreign origin");
            }
            checked += 1;
        }
    }
    println!("edge headers checked on {checked} responses");
}

#[tokio::test]
async fn preflights_allow_the_web_origin_on_every_route_and_refuse_others() {
    let app = app().await;
    for path in every_route() {
        let preflight = |origin: &str| {
            app.client
                .request(Method::OPTIONS, format!("{}{path}", app.url))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "content-type, x-queue-entry-token, idempotency-key",
                )
                .send()
        };
        let ok = preflight(WEB).await.expect("preflight");
        assert_eq!(ok.status().as_u16(), 204, "{path}");
        assert_eq!(header(&ok, "access-control-allow-origin"), Some(WEB));
        assert_eq!(
            header(&ok, "access-control-allow-credentials"),
            Some("true")
        );
        let methods = header(&ok, "access-control-allow-methods").unwrap_or_default();
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            assert!(methods.contains(method), "{path}: {methods}");
        }
        let headers = header(&ok, "access-control-allow-headers")
            .unwrap_or_default()
            .to_ascii_lowercase();
        for name in [
            "content-type",
            "authorization",
            "x-queue-entry-token",
            "idempotency-key",
        ] {
            assert!(headers.contains(name), "{path}: {headers}");
        }
        let refused = preflight(EVIL).await.expect("preflight");
        assert_eq!(refused.status().as_u16(), 403, "{path}");
        assert_eq!(header(&refused, "access-control-allow-origin"), None);
    }
}

/// Preflights are decided from headers alone: with both stores unreachable they still pass.
#[tokio::test]
async fn preflights_never_touch_a_store() {
    let app = spawn_app_with(
        AppOptions::application()
            .variable("allowed_origins", WEB)
            .redis("redis://127.0.0.1:9"),
    )
    .await;
    for path in [
        "/api/v1/auth/login",
        "/api/v1/events",
        "/api/v1/auth/refresh",
    ] {
        let response = app
            .client
            .request(Method::OPTIONS, format!("{}{path}", app.url))
            .header("origin", WEB)
            .header("access-control-request-method", "POST")
            .send()
            .await
            .expect("preflight");
        assert_eq!(response.status().as_u16(), 204, "{path}");
    }
    // The same app really has no Redis: a login is refused with 503, so the 204s above did not
    // come from a working store.
    let login = app
        .post("/api/v1/auth/login")
        .header("origin", WEB)
        .json(&serde_json::json!({"email": "a@b.co", "password": "whatever-long"}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status().as_u16(), 503);
}

#[tokio::test]
async fn odd_request_ids_are_replaced_and_user_specific_answers_are_not_cached() {
    let app = app().await;
    let response = app
        .get("/api/v1/auth/me")
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .expect("me");
    assert_eq!(response.status().as_u16(), 401);
    let id = header(&response, "x-request-id").unwrap_or_default();
    assert!(!id.is_empty() && !id.contains(' '), "{id}");
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    // Public catalog reads keep their CDN policy.
    let events = app.get("/api/v1/events").send().await.expect("events");
    assert!(
        header(&events, "cache-control").is_some_and(|c| c.starts_with("public")),
        "{:?}",
        header(&events, "cache-control")
    );
}
