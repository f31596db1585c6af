//! The OpenAPI description (`docs/openapi.yaml`) against the code: the document is sound OpenAPI
//! 3.1, every route of spin.toml is in it, the application serves it byte for byte, and every
//! built route answers — valid requests and bad ones — exactly as it says.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use urr_edge::manifest::Manifest;
use urr_edge::seed::{EVENTS, seed};
use urr_tests::openapi::{METHODS, OpenApi, SPEC_PATH, assert_method_not_allowed, spec};
use urr_tests::{AppOptions, TestApp, conforming, mint_access_token, repo_root, spawn_app_with};

/// The components built when this description was written; every one of their routes must be
/// driven by `every_built_route_answers_as_the_spec_says` (the others get their own tests).
const DRIVEN_COMPONENTS: [&str; 4] = ["health", "catalog", "auth", "auth-refresh"];
const PASSWORD: &str = "correct horse battery";

fn manifest() -> Manifest {
    Manifest::load(&repo_root().join("spin.toml")).expect("spin.toml parses")
}

/// Every `$ref` string in the document, with where it was found.
fn references(value: &Value, at: &str, found: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "$ref"
                    && let Some(reference) = child.as_str()
                {
                    found.push((at.to_string(), reference.to_string()));
                }
                references(child, &format!("{at}/{key}"), found);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                references(child, &format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

/// The `{name}`s of a path template.
fn template_params(template: &str) -> BTreeSet<String> {
    template
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_spec_is_openapi_3_1_and_every_reference_resolves() {
    let spec = spec();
    let doc = spec.document();
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1."), "openapi: {version}");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    assert_eq!(doc["servers"][0]["url"], "http://localhost:3001");

    // Status codes are quoted: YAML reads `200:` as a number, which some tools refuse.
    let text = std::fs::read_to_string(repo_root().join(SPEC_PATH)).expect("reading the spec");
    let unquoted: Vec<&str> = text
        .lines()
        .filter(|line| {
            let key = line.trim_start();
            key.len() >= 4
                && key.as_bytes()[..3].iter().all(u8::is_ascii_digit)
                && key[3..].starts_with(':')
        })
        .collect();
    assert!(unquoted.is_empty(), "unquoted status codes: {unquoted:?}");

    let mut found = Vec::new();
    references(doc, "#", &mut found);
    println!("{} references", found.len());
    assert!(found.len() > 100, "the spec shares its parts by reference");
    for (at, reference) in &found {
        assert!(
            reference.starts_with("#/"),
            "{at}: `{reference}` is not local"
        );
        let target = spec
            .pointer(reference)
            .unwrap_or_else(|e| panic!("{at}: {e}"));
        spec.resolve(target).unwrap_or_else(|e| panic!("{at}: {e}"));
    }

    let sample_error = json!({
        "error": "Too many requests", "message": "Too many requests", "code": "rate_limited",
        "retryAfter": 3, "requestId": "abc"
    });
    let operations = spec.operations().expect("operations");
    println!("{} operations", operations.len());
    let mut operation_ids = BTreeSet::new();
    let mut checked_responses = 0;
    for (template, method, operation) in &operations {
        let name = format!("{} {template}", method.to_uppercase());
        let id = operation["operationId"].as_str().unwrap_or_default();
        assert!(!id.is_empty(), "{name}: no operationId");
        assert!(operation_ids.insert(id), "{name}: operationId {id} twice");
        assert!(
            operation["tags"].as_array().is_some_and(|t| !t.is_empty()),
            "{name}: no tag"
        );

        // Path parameters: exactly the template's, each declared as required.
        let item = spec
            .resolve(&spec.document()["paths"][*template])
            .expect("path item");
        let declared: BTreeSet<String> = item["parameters"]
            .as_array()
            .into_iter()
            .chain(operation["parameters"].as_array())
            .flatten()
            .map(|p| spec.resolve(p).expect("parameter"))
            .filter(|p| p["in"] == "path")
            .inspect(|p| assert_eq!(p["required"], true, "{name}: path parameter not required"))
            .filter_map(|p| p["name"].as_str().map(str::to_string))
            .collect();
        assert_eq!(
            declared,
            template_params(template),
            "{name}: path parameters"
        );

        let responses = operation["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{name}: no responses"));
        assert!(
            responses.keys().any(|code| code.starts_with('2')),
            "{name}: no success response"
        );
        for (code, response) in responses {
            let status: u16 = code
                .parse()
                .unwrap_or_else(|_| panic!("{name}: status `{code}` is not a number"));
            let response = spec.resolve(response).expect("response");
            assert!(
                response["description"].is_string(),
                "{name} {code}: no description"
            );
            let body = spec.body_schema(response).expect("content");
            match (status, body) {
                (204 | 304, None) => {}
                (204 | 304, Some(_)) => panic!("{name} {code}: a {code} has no body"),
                (_, None) => panic!("{name} {code}: no body schema"),
                (_, Some(body)) => {
                    // Compiles, and every error status accepts the contract's error body.
                    let verdict = spec.validate(body.schema, &sample_error);
                    if let Err(e) = &verdict {
                        assert!(!e.contains("does not compile"), "{name} {code}: {e}");
                    }
                    if status >= 400 {
                        assert!(
                            verdict.is_ok(),
                            "{name} {code}: the error body fails: {verdict:?}"
                        );
                    }
                }
            }
            if status == 429 || status == 503 {
                let required = spec
                    .required_headers(method, template, status)
                    .expect("headers");
                assert!(
                    required.iter().any(|h| h == "Retry-After"),
                    "{name} {code}: Retry-After must be required"
                );
            }
            checked_responses += 1;
        }
    }
    println!("{checked_responses} responses checked");
}

#[test]
fn the_conformance_check_refuses_what_the_spec_does_not_say() {
    let spec = spec();
    let error = json!({"error": "Not found", "message": "Not found", "code": "not_found"});
    let events = "/api/v1/events/{id}";
    assert!(spec.check("GET", events, 404, &error).is_ok());
    assert!(
        spec.check("get", "/api/events/{id}", 404, &error).is_ok(),
        "/api routes are their /api/v1 twins"
    );
    for (status, body, why) in [
        (404, json!({"error": "x", "message": "x"}), "no code"),
        (
            404,
            json!({"error": "x", "message": "x", "code": "x", "stack": "…"}),
            "internals in an error",
        ),
        (
            404,
            json!({"error": "x", "message": "x", "code": "Not Found"}),
            "not snake_case",
        ),
        (418, error.clone(), "an undocumented status"),
        (200, json!({"event": {}}), "a detail without its fields"),
        (304, json!({"x": 1}), "a body on a 304"),
    ] {
        let verdict = spec.check("GET", events, status, &body);
        println!("{why}: {verdict:?}");
        assert!(verdict.is_err(), "{why} must not conform: {body}");
    }
    assert!(
        spec.check("GET", "/api/v1/nowhere", 200, &json!({}))
            .is_err()
    );
    // A dangling or non-local `$ref` is caught.
    let tiny = OpenApi::parse("openapi: 3.1.0\ncomponents: {schemas: {A: {type: string}}}\n")
        .expect("parses");
    assert!(tiny.pointer("#/components/schemas/A").is_ok());
    assert!(tiny.pointer("#/components/schemas/B").is_err());
    assert!(tiny.pointer("other.yaml#/A").is_err());
    // Formats are checked: a time that is not ISO-8601 fails.
    assert!(
        spec.check(
            "GET",
            "/api/v1/time",
            200,
            &json!({"time": "2026-11-25T00:00:00.000Z"})
        )
        .is_ok()
    );
    assert!(
        spec.check("GET", "/api/v1/time", 200, &json!({"time": "yesterday"}))
            .is_err()
    );
}

/// The check every end-to-end test's answers go through when its app is dropped.
#[test]
fn every_answer_is_matched_to_its_operation_and_checked() {
    let spec = spec();
    for (path, template) in [
        ("/api/v1/reservations/my", Some("/api/v1/reservations/my")),
        ("/api/reservations/my", Some("/api/v1/reservations/my")),
        (
            "/api/v1/reservations/abc",
            Some("/api/v1/reservations/{id}"),
        ),
        (
            "/api/v1/reservations/abc/cancel",
            Some("/api/v1/reservations/{id}/cancel"),
        ),
        ("/api/v1/reservations//cancel", None),
        ("/health", Some("/health")),
        ("/api/v1/nowhere", None),
        ("/metrics", None),
    ] {
        assert_eq!(spec.template_for_path(path), template, "{path}");
    }

    let json_headers = |extra: &[(&'static str, &str)]| {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            "application/json".parse().expect("header"),
        );
        for (name, value) in extra {
            headers.insert(*name, value.parse().expect("header"));
        }
        headers
    };
    let limited = br#"{"error":"x","message":"x","code":"rate_limited","retryAfter":2}"#;
    let with_ids = json_headers(&[("x-request-id", "r1")]);
    let complete = json_headers(&[("retry-after", "2"), ("x-request-id", "r1")]);
    let check = |method, path, status, headers: &reqwest::header::HeaderMap, body: &[u8]| {
        spec.check_exchange(method, path, status, headers, body)
    };
    assert_eq!(
        check("POST", "/api/v1/queue/check/e1", 429, &complete, limited),
        Ok(true)
    );
    for (verdict, why) in [
        (
            check("POST", "/api/v1/queue/check/e1", 429, &with_ids, limited),
            "no Retry-After",
        ),
        (
            check("POST", "/api/v1/queue/check/e1", 429, &complete, b"{"),
            "not JSON",
        ),
        (
            check("POST", "/api/v1/queue/check/e1", 418, &complete, limited),
            "undocumented",
        ),
        (
            check("PUT", "/api/v1/events", 200, &complete, b"{}"),
            "an answer to a method not in the spec",
        ),
        (
            check("GET", "/api/v1/events", 405, &complete, limited),
            "a 405 without Allow",
        ),
    ] {
        println!("{why}: {verdict:?}");
        assert!(verdict.is_err(), "{why} must not conform");
    }
    let allow = json_headers(&[("allow", "GET")]);
    let not_allowed = br#"{"error":"x","message":"x","code":"method_not_allowed"}"#;
    assert_eq!(
        check("PUT", "/api/v1/events", 405, &allow, not_allowed),
        Ok(true)
    );
    assert_eq!(
        check("OPTIONS", "/api/v1/events", 204, &allow, b""),
        Ok(false),
        "preflights are the CORS tests' to check"
    );
    assert_eq!(check("GET", "/nowhere", 404, &with_ids, limited), Ok(false));
}

#[test]
fn every_route_in_spin_toml_is_in_the_spec() {
    let spec = spec();
    let manifest = manifest();
    let mut missing = Vec::new();
    let mut described = BTreeSet::new();
    for trigger in &manifest.triggers {
        let route = trigger.route.raw();
        let paths = spec.paths_for_route(route).expect("paths");
        if paths.is_empty() {
            missing.push(format!("{route} ({})", trigger.component));
        }
        described.extend(paths);
    }
    println!(
        "{} spin.toml routes; {} of {} spec paths are routed today",
        manifest.triggers.len(),
        described.len(),
        spec.paths().expect("paths").len()
    );
    assert!(
        missing.is_empty(),
        "routes in spin.toml missing from {SPEC_PATH}: {missing:#?}"
    );
    // The matcher itself: parameters by position, wildcards by prefix, /api as /api/v1.
    assert_eq!(
        spec.paths_for_route("/api/events/:event").expect("paths"),
        vec!["/api/v1/events/{id}"]
    );
    assert!(
        spec.paths_for_route("/api/v1/queue/admin/...")
            .expect("paths")
            .len()
            >= 3
    );
    assert!(
        spec.paths_for_route("/api/v1/nowhere")
            .expect("paths")
            .is_empty()
    );
}

/// Drives one request and checks the whole answer against the spec.
struct Driver<'a> {
    app: &'a TestApp,
    spec: &'static OpenApi,
    /// (method, spec path) → statuses seen.
    seen: BTreeMap<(String, String), BTreeSet<u16>>,
}

impl<'a> Driver<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            spec: spec(),
            seen: BTreeMap::new(),
        }
    }

    /// Sends `request` (built for `method` on a path of `template`) and checks status, body and
    /// required headers; returns the status, headers and body.
    async fn send(
        &mut self,
        method: &str,
        template: &str,
        request: reqwest::RequestBuilder,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {template}: {e}"));
        let answer = conforming(self.spec, method, template, response).await;
        let path = self.spec.spec_path(template).expect("spec path");
        self.seen
            .entry((method.to_ascii_lowercase(), path))
            .or_default()
            .insert(answer.0);
        answer
    }

    async fn expect(
        &mut self,
        status: u16,
        method: &str,
        template: &str,
        request: reqwest::RequestBuilder,
    ) -> Value {
        let (got, _, body) = self.send(method, template, request).await;
        assert_eq!(got, status, "{method} {template}: {body}");
        body
    }

    async fn not_allowed(&self, what: &str, request: reqwest::RequestBuilder) {
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_method_not_allowed(self.spec, what, response).await;
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.app.get(path)
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.app.post(path)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_built_route_answers_as_the_spec_says() {
    let google = urr_tests::google::GoogleKeyServer::start().await;
    let app = spawn_app_with(AppOptions::application().google(&google)).await;
    seed(&app.database.url).await.expect("seeding");
    let mut d = Driver::new(&app);

    // ---- health
    for path in ["/health", "/api/v1/health", "/api/health"] {
        d.expect(200, "GET", path, d.get(path)).await;
    }
    for path in ["/health/ready", "/api/v1/health/ready", "/api/health/ready"] {
        d.expect(200, "GET", path, d.get(path)).await;
    }
    d.not_allowed("POST /health", d.post("/health")).await;

    // ---- the spec itself
    let (_, headers, _) = d
        .send("GET", "/api/v1/openapi.yaml", d.get("/api/v1/openapi.yaml"))
        .await;
    let etag = headers["etag"].to_str().expect("etag").to_string();
    d.expect(
        304,
        "GET",
        "/api/v1/openapi.yaml",
        d.get("/api/openapi.yaml").header("if-none-match", &etag),
    )
    .await;
    d.not_allowed("POST /api/v1/openapi.yaml", d.post("/api/v1/openapi.yaml"))
        .await;

    // ---- catalog
    let list = d
        .expect(200, "GET", "/api/v1/events", d.get("/api/v1/events"))
        .await;
    assert!(
        list["events"].as_array().is_some_and(|e| !e.is_empty()),
        "{list}"
    );
    for query in [
        "status=on_sale&limit=2",
        "q=IU&page=1",
        "status=ended",
        "limit=500&page=0",
    ] {
        let body = d
            .expect(
                200,
                "GET",
                "/api/v1/events",
                d.get(&format!("/api/events?{query}")),
            )
            .await;
        println!(
            "events?{query}: {} listed",
            body["events"].as_array().map_or(0, Vec::len)
        );
    }
    for query in [
        "status=bogus",
        "page=abc",
        "min_price=-1",
        "min_price=5&max_price=4",
    ] {
        d.expect(
            400,
            "GET",
            "/api/v1/events",
            d.get(&format!("/api/v1/events?{query}")),
        )
        .await;
    }
    let (_, headers, _) = d
        .send("GET", "/api/v1/events", d.get("/api/v1/events"))
        .await;
    let etag = headers["etag"].to_str().expect("etag").to_string();
    d.expect(
        304,
        "GET",
        "/api/v1/events",
        d.get("/api/v1/events").header("if-none-match", &etag),
    )
    .await;
    d.not_allowed("POST /api/v1/events", d.post("/api/v1/events"))
        .await;

    let mut ticket_type = None;
    for event in &EVENTS {
        let detail = d
            .expect(
                200,
                "GET",
                "/api/v1/events/{id}",
                d.get(&format!("/api/v1/events/{}", event.id)),
            )
            .await;
        let tickets = d
            .expect(
                200,
                "GET",
                "/api/v1/tickets/event/{eventId}",
                d.get(&format!("/api/tickets/event/{}", event.id)),
            )
            .await;
        assert_eq!(detail["ticketTypes"], tickets["ticketTypes"]);
        if ticket_type.is_none() {
            ticket_type = tickets["ticketTypes"][0]["id"].as_str().map(str::to_string);
        }
    }
    let ticket_type = ticket_type.expect("a seeded standing event has ticket types");
    let unknown = "00000000-0000-4000-8000-000000000000";
    for template in ["/api/v1/events/{id}", "/api/v1/tickets/event/{eventId}"] {
        let path = |id: &str| template.replace("{id}", id).replace("{eventId}", id);
        d.expect(404, "GET", template, d.get(&path(unknown))).await;
        d.expect(400, "GET", template, d.get(&path("not-a-uuid")))
            .await;
    }
    let availability = "/api/v1/tickets/availability/{ticketTypeId}";
    d.expect(
        200,
        "GET",
        availability,
        d.get(&format!("/api/v1/tickets/availability/{ticket_type}")),
    )
    .await;
    d.expect(
        404,
        "GET",
        availability,
        d.get(&format!("/api/tickets/availability/{unknown}")),
    )
    .await;
    let layouts = d
        .expect(
            200,
            "GET",
            "/api/v1/seats/layouts",
            d.get("/api/seats/layouts"),
        )
        .await;
    assert_eq!(
        layouts["layouts"].as_array().map(Vec::len),
        Some(3),
        "{layouts}"
    );
    d.expect(200, "GET", "/api/v1/time", d.get("/api/v1/time"))
        .await;
    d.expect(200, "GET", "/api/time", d.get("/api/time")).await;

    // ---- auth
    let register = "/api/v1/auth/register";
    let session = d
        .expect(
            201,
            "POST",
            register,
            d.post(register)
                .header("x-token-delivery", "body")
                .json(&json!({"email": "spec@example.com", "password": PASSWORD, "name": "Spec", "phone": "010-1234-5678"})),
        )
        .await;
    let access = session["token"].as_str().expect("token").to_string();
    let refresh = session["refreshToken"]
        .as_str()
        .expect("refreshToken")
        .to_string();
    let user_id = session["user"]["id"].as_str().expect("user id").to_string();
    let cookie_session = d
        .expect(
            201,
            "POST",
            register,
            d.post("/api/auth/register").json(
                &json!({"email": "cookie@example.com", "password": PASSWORD, "name": "Cookie"}),
            ),
        )
        .await;
    assert!(cookie_session.get("token").is_none(), "{cookie_session}");
    d.expect(
        409,
        "POST",
        register,
        d.post(register)
            .json(&json!({"email": "spec@example.com", "password": PASSWORD, "name": "Again"})),
    )
    .await;
    for bad in [
        json!({"email": "x@example.com", "password": "short", "name": "X"}),
        json!({"email": "not an email", "password": PASSWORD, "name": "X"}),
        json!({"email": "x@example.com", "password": PASSWORD}),
    ] {
        d.expect(400, "POST", register, d.post(register).json(&bad))
            .await;
    }
    d.expect(400, "POST", register, d.post(register).body("{"))
        .await;
    // The host's body cap drains an oversized body before its 413; on Spin the component answers
    // 413 unread and the connection is reset first (docs/deploy.md, "Spin and urr-edge").
    if !app.on_spin() {
        let huge = format!(r#"{{"name":"{}"}}"#, "x".repeat(70 * 1024));
        d.expect(413, "POST", register, d.post(register).body(huge))
            .await;
    }
    d.not_allowed("GET register", d.get(register)).await;

    let login = "/api/v1/auth/login";
    d.expect(
        200,
        "POST",
        login,
        d.post(login)
            .header("x-token-delivery", "body")
            .json(&json!({"email": "spec@example.com", "password": PASSWORD})),
    )
    .await;
    d.expect(
        401,
        "POST",
        login,
        d.post(login)
            .json(&json!({"email": "spec@example.com", "password": "wrong password"})),
    )
    .await;
    d.expect(
        400,
        "POST",
        login,
        d.post(login).json(&json!({"email": "spec@example.com"})),
    )
    .await;

    let google_sign_in = "/api/v1/auth/google";
    let claims = urr_tests::google::GoogleKeyServer::claims("spec-sub", "google@example.com");
    let credential = urr_tests::google::GoogleKeyServer::mint(&claims);
    let signed_in = d
        .expect(
            200,
            "POST",
            google_sign_in,
            d.post(google_sign_in)
                .header("x-token-delivery", "body")
                .json(&json!({ "credential": credential })),
        )
        .await;
    assert_eq!(signed_in["user"]["email"], "google@example.com");
    d.expect(
        401,
        "POST",
        google_sign_in,
        d.post("/api/auth/google")
            .json(&json!({ "credential": "not.a.token" })),
    )
    .await;
    d.expect(
        400,
        "POST",
        google_sign_in,
        d.post(google_sign_in).json(&json!({})),
    )
    .await;
    d.not_allowed("GET google", d.get(google_sign_in)).await;

    let me = "/api/v1/auth/me";
    let body = d
        .expect(200, "GET", me, d.get(me).bearer_auth(&access))
        .await;
    assert_eq!(body["user"]["id"], user_id.as_str());
    d.expect(401, "GET", me, d.get(me)).await;
    d.expect(
        401,
        "GET",
        me,
        d.get("/api/auth/me").bearer_auth("not.a.token"),
    )
    .await;
    d.not_allowed("POST me", d.post(me)).await;

    let verify = "/api/v1/auth/verify-token";
    let verdict = d
        .expect(
            200,
            "POST",
            verify,
            d.post(verify).json(&json!({"token": access})),
        )
        .await;
    assert_eq!(verdict["valid"], true);
    let admin = mint_access_token(&user_id, "spec@example.com", true, &uuid_v4());
    let verdict = d
        .expect(
            200,
            "POST",
            verify,
            d.post(verify).json(&json!({"token": admin})),
        )
        .await;
    assert_eq!(verdict["user"]["role"], "admin", "{verdict}");
    let verdict = d
        .expect(
            200,
            "POST",
            verify,
            d.post(verify).json(&json!({"token": "nope"})),
        )
        .await;
    assert_eq!(verdict, json!({"valid": false, "user": null}));
    d.expect(400, "POST", verify, d.post(verify).json(&json!({})))
        .await;

    let rotate = "/api/v1/auth/refresh";
    let rotated = d
        .expect(
            200,
            "POST",
            rotate,
            d.post(rotate)
                .header("x-token-delivery", "body")
                .json(&json!({"refreshToken": refresh})),
        )
        .await;
    assert!(rotated["refreshToken"].is_string(), "{rotated}");
    d.expect(
        401,
        "POST",
        rotate,
        d.post(rotate).json(&json!({"refreshToken": "garbage"})),
    )
    .await;
    d.expect(401, "POST", rotate, d.post("/api/auth/refresh"))
        .await;
    d.not_allowed("GET refresh", d.get(rotate)).await;

    let logout = "/api/v1/auth/logout";
    // A cookie-authenticated POST from a foreign origin is refused (CSRF).
    d.expect(
        403,
        "POST",
        logout,
        d.post(logout)
            .header("cookie", format!("__Host-urr_access={access}"))
            .header("origin", "https://evil.example"),
    )
    .await;
    d.expect(200, "POST", logout, d.post(logout).bearer_auth(&access))
        .await;
    d.expect(200, "POST", logout, d.post("/api/auth/logout?all=true"))
        .await;

    // Every operation of the driven components was seen answering a success.
    let spec = spec();
    let mut undriven = Vec::new();
    for trigger in manifest().triggers {
        if !DRIVEN_COMPONENTS.contains(&trigger.component.as_str()) {
            continue;
        }
        for path in spec.paths_for_route(trigger.route.raw()).expect("paths") {
            let item = spec.resolve(&spec.document()["paths"][path]).expect("item");
            for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
                let statuses = d.seen.get(&(method.to_string(), path.to_string()));
                if !statuses.is_some_and(|s| s.iter().any(|s| (200..300).contains(s))) {
                    undriven.push(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
    }
    let answers: usize = d.seen.values().map(BTreeSet::len).sum();
    for ((method, path), statuses) in &d.seen {
        println!("{:>6} {path}: {statuses:?}", method.to_uppercase());
    }
    println!(
        "{} operations, {answers} distinct (operation, status) answers conform",
        d.seen.len()
    );
    assert!(
        undriven.is_empty(),
        "built operations never driven to a 2xx: {undriven:?}"
    );
}

fn uuid_v4() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_spec_is_the_file_byte_for_byte() {
    let file = std::fs::read(repo_root().join(SPEC_PATH)).expect("reading the spec");
    let app = spawn_app_with(AppOptions::application()).await;
    for path in ["/api/v1/openapi.yaml", "/api/openapi.yaml"] {
        let response = app.get(path).send().await.expect("request");
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], "application/yaml", "{path}");
        assert!(
            headers["cache-control"]
                .to_str()
                .is_ok_and(|v| v.starts_with("public")),
            "{path}: {headers:?}"
        );
        let served = response.bytes().await.expect("body");
        assert_eq!(served.len(), file.len(), "{path}: length");
        assert!(
            served == file,
            "{path} does not serve {SPEC_PATH} byte for byte"
        );
    }
}

/// The answers no happy path meets: rate limits, stores down, the host's own refusals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_outages_answer_as_the_spec_says() {
    // One auth request per minute per client: the second is a 429.
    let app = spawn_app_with(
        AppOptions::application()
            .variable("rate_limits", "auth=1,queue=120,booking=30,default=3000"),
    )
    .await;
    let mut d = Driver::new(&app);
    let login = "/api/v1/auth/login";
    let body = json!({"email": "nobody@example.com", "password": PASSWORD});
    d.expect(401, "POST", login, d.post(login).json(&body))
        .await;
    let limited = d
        .expect(429, "POST", login, d.post(login).json(&body))
        .await;
    assert_eq!(limited["code"], "rate_limited", "{limited}");
    drop(d);
    drop(app);

    // Redis and Postgres refuse connections: readiness names both, login fails closed, the
    // catalog (Postgres) is a 503 with Retry-After, liveness still serves.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
        listener.local_addr().expect("addr").port()
    };
    let mut options = AppOptions::application()
        .redis(&format!("redis://127.0.0.1:{closed}"))
        .variable("pg_host", format!("127.0.0.1:{closed}"));
    for role in ["health", "catalog", "auth"] {
        options = options.variable(
            &format!("pg_address_{role}"),
            format!("postgres://urr_{role}@127.0.0.1:{closed}/urr"),
        );
    }
    let app = spawn_app_with(options).await;
    let mut d = Driver::new(&app);
    let ready = d
        .expect(503, "GET", "/health/ready", d.get("/health/ready"))
        .await;
    assert_eq!(
        ready["dependencies"],
        json!({"redis": "down", "postgres": "down"})
    );
    d.expect(200, "GET", "/health", d.get("/health")).await;
    let down = d
        .expect(503, "POST", login, d.post(login).json(&body))
        .await;
    println!("login with Redis down: {down}");
    let down = d
        .expect(503, "GET", "/api/v1/events", d.get("/api/v1/events"))
        .await;
    assert_eq!(down["code"], "postgres_unavailable", "{down}");
    d.expect(
        503,
        "GET",
        "/api/v1/events/{id}",
        d.get(&format!("/api/v1/events/{}", EVENTS[0].id)),
    )
    .await;
}

/// OWASP C17, function level, generated from the spec: every operation tagged `admin`, called by
/// a signed-in user who is not an admin, is a 403 before anything is looked up or changed
/// (a real event id in the path must not change the answer), and 401 without a session. Every
/// path under an `/admin/` segment must carry the tag, so a new admin route cannot slip by.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_operation_refuses_a_user_and_changes_nothing() {
    let spec = spec();
    let app = spawn_app_with(AppOptions::application()).await;
    seed(&app.database.url).await.expect("seeding");
    let event = EVENTS[0].id;
    let user = mint_access_token(&uuid_v4(), "user@example.com", false, "fam");
    let state = || async {
        let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&app.database.url)
            .await
            .expect("database");
        let mut counts = Vec::new();
        for table in [
            "events",
            "ticket_types",
            "seats",
            "reservations",
            "admin_audit_log",
            "payment_outbox",
        ] {
            let sql = format!("SELECT count(*) FROM {table}");
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&mut db)
                .await
                .expect("count");
            counts.push((table, n));
        }
        let cancelled: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE cancelled")
            .fetch_one(&mut db)
            .await
            .expect("count");
        counts.push(("cancelled events", cancelled));
        counts
    };
    let before = state().await;

    let mut refused = 0;
    for (template, method, operation) in spec.operations().expect("operations") {
        let admin = operation["tags"]
            .as_array()
            .is_some_and(|tags| tags.iter().any(|t| t == "admin"));
        assert!(
            admin || !template.split('/').any(|s| s == "admin"),
            "{method} {template} is an admin path without the `admin` tag"
        );
        if !admin {
            continue;
        }
        let path: String = template
            .split('/')
            .map(|s| if s.starts_with('{') { event } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let body = json!({"threshold": 1, "status": "cancelled", "title": "Taken over"});
        let request = |token: Option<&str>| {
            let mut request = app.client.request(
                method.to_uppercase().parse().expect("method"),
                format!("{}{path}", app.url),
            );
            if method != "get" && method != "delete" {
                request = request.json(&body);
            }
            match token {
                Some(token) => request.bearer_auth(token),
                None => request,
            }
        };
        for (token, status) in [(Some(user.as_str()), 403), (None, 401)] {
            let response = request(token).send().await.expect("request");
            let (got, _, answer) = conforming(spec, method, template, response).await;
            assert_eq!(got, status, "{method} {path} as {token:?}: {answer}");
            assert!(
                answer.get("event").is_none() && answer.get("reservations").is_none(),
                "{method} {path}: a refusal leaks nothing: {answer}"
            );
        }
        refused += 1;
    }
    println!("{refused} admin operations refused a user");
    assert!(
        refused >= 15,
        "the spec tags its admin operations: {refused}"
    );
    assert_eq!(state().await, before, "a refused call changed something");
}
