//! The host against the fixture component: every host interface and every per-request limit.

use serde_json::Value;
use std::time::{Duration, Instant};
use urr_tests::{AppOptions, spawn_app, spawn_app_with, try_spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn component_variables_resolve_with_defaults_overrides_and_errors() {
    let app = spawn_app().await;
    assert_eq!(
        app.get_json("/fixture/var/greeting").await.1["value"],
        "hello, world"
    );
    // Spin's words: `undefined` names the component and the variable, `invalid-name` says why.
    let undefined = app.get_json("/fixture/var/not_declared").await.1;
    let text = undefined["error"].as_str().unwrap_or("");
    assert!(
        text.contains("Undefined(") && text.contains("not_declared"),
        "{undefined}"
    );
    let invalid = app.get_json("/fixture/var/Bad-Name").await.1;
    let text = invalid["error"].as_str().unwrap_or("");
    assert!(
        text.contains("InvalidName(") && text.contains("Bad-Name"),
        "{invalid}"
    );

    let app = spawn_app_with(AppOptions::fixture().variable("greeting", "annyeong")).await;
    assert_eq!(
        app.get_json("/fixture/var/greeting").await.1["value"],
        "annyeong, world"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boot_fails_naming_a_missing_required_variable() {
    let options = AppOptions::fixture().configure(|c| {
        c.variables.remove("pg_host");
    });
    let err = try_spawn_app(options)
        .await
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(
        err.contains("`pg_host`") && err.contains("SPIN_VARIABLE_PG_HOST"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_incr_and_eval_evalsha_round_trip() {
    let app = spawn_app().await;
    assert_eq!(app.get_json("/fixture/incr/counter").await.1["value"], 1);
    assert_eq!(app.get_json("/fixture/incr/counter").await.1["value"], 2);
    let eval = app.get_json("/fixture/eval").await.1;
    assert_eq!(eval["eval"], "[RedisResult::Int64(5)]", "{eval}");
    assert_eq!(eval["evalsha"], "[RedisResult::Int64(10)]", "{eval}");
    // Guests fall back from EVALSHA to EVAL on this error, so it must stay recognisable.
    assert!(
        eval["noscript"]
            .as_str()
            .unwrap_or("")
            .to_ascii_lowercase()
            .contains("noscript"),
        "{eval}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tests_never_see_each_others_redis_keys() {
    let (a, b) = tokio::join!(spawn_app(), spawn_app());
    assert_ne!(a.key_prefix, b.key_prefix);
    assert_ne!(
        a.database.name, b.database.name,
        "each test gets its own database"
    );
    assert_eq!(a.get_json("/fixture/incr/shared").await.1["value"], 1);
    assert_eq!(a.get_json("/fixture/incr/shared").await.1["value"], 2);
    assert_eq!(
        b.get_json("/fixture/incr/shared").await.1["value"],
        1,
        "b must not see a's counter"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_postgres_type_round_trips_with_nulls_as_spin_converts_it() {
    let app = spawn_app().await;
    let (status, report) = app.get_json("/fixture/pg-types").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["checked"], 24, "{report}");
    assert_eq!(report["mismatches"], Value::Array(vec![]), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sql_error_comes_back_as_a_value_with_its_sqlstate() {
    let app = spawn_app().await;
    let error = app.get_json("/fixture/pg-error").await.1;
    let text = error["error"].as_str().unwrap_or("");
    assert!(
        text.contains("42601") && text.contains("syntax error"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_left_open_never_leaks_into_the_next_request() {
    // One pooled connection: the second request gets the very session the first one dirtied.
    let app = spawn_app_with(AppOptions::fixture().configure(|c| c.stores.pg_pool_max = 1)).await;
    let leak = app.get_json("/fixture/pg-leak/row-1").await.1;
    let check = app.get_json("/fixture/pg-check/row-1").await.1;
    assert_eq!(
        leak["pid"], check["pid"],
        "the pool of one must hand back the same session"
    );
    assert_eq!(check["in_transaction"], false, "{check}");
    assert_eq!(
        check["seen"], 0,
        "the uncommitted row must be gone: {check}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_trap_is_a_json_500_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    let response = app.get("/fixture/trap").send().await.expect("request");
    assert_eq!(response.status(), 500);
    let request_id = response
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap_or("").to_string());
    let body: Value = response.json().await.expect("json body");
    assert_eq!(body["code"], "internal_error");
    assert_eq!(body["requestId"].as_str().map(str::to_string), request_id);
    assert!(
        !body.to_string().contains("panicked"),
        "internals must not leak: {body}"
    );
    assert_eq!(app.get_json("/health").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_error_is_a_json_500() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/fixture/error").await;
    assert_eq!(status, 500);
    assert_eq!(body["code"], "internal_error");
    assert!(
        !body.to_string().contains("deliberate"),
        "internals must not leak: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_past_its_deadline_gets_504_and_does_not_stall_the_server() {
    let app = spawn_app().await;
    let started = Instant::now();
    let spinning = app.get("/fixture/spin").send();
    let (spun, health) = tokio::join!(spinning, async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.get_json("/health").await.0
    });
    let spun = spun.expect("request");
    assert_eq!(spun.status(), 504);
    assert_eq!(health, 200, "a busy guest must not block other requests");
    let elapsed = started.elapsed();
    // The fixture's deadline is 2 s; a busy loop is interrupted at the next epoch tick.
    assert!(
        elapsed >= Duration::from_millis(1900),
        "answered before the deadline: {elapsed:?}"
    );
    assert_eq!(
        spun.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("2"),
        "a 504 says when to retry"
    );
    let body: Value = spun.json().await.expect("json");
    assert_eq!(body["code"], "deadline_exceeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_413_with_or_without_a_content_length() {
    let app = spawn_app().await;
    let ok = app
        .post("/fixture/body-size")
        .body(vec![b'x'; 4000])
        .send()
        .await
        .expect("request");
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<Value>().await.expect("json")["bytes"], 4000);

    let declared = app
        .post("/fixture/body-size")
        .body(vec![b'x'; 5000])
        .send()
        .await
        .expect("request");
    assert_eq!(declared.status(), 413);
    assert_eq!(
        declared.json::<Value>().await.expect("json")["code"],
        "payload_too_large"
    );

    // Chunked: no Content-Length, so the cap is enforced while reading.
    let chunks =
        futures::stream::iter([vec![b'y'; 3000], vec![b'y'; 3000]].map(Ok::<_, std::io::Error>));
    let chunked = app
        .post("/fixture/body-size")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("request");
    assert_eq!(chunked.status(), 413);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_outbound_addresses_are_error_values_not_traps() {
    let app = spawn_app().await;
    let redis = app.get_json("/fixture/redis-denied").await.1;
    assert_eq!(redis["error"], "Error::InvalidAddress", "{redis}");
    // http_host defaults to 127.0.0.1:9, so port 1 is not allowed.
    let http = app
        .get_json("/fixture/outbound?url=http://127.0.0.1:1/")
        .await
        .1;
    assert!(
        http["error"]
            .as_str()
            .unwrap_or("")
            .contains("HttpRequestDenied"),
        "{http}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_route_is_a_json_404() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/vwr-api/anything").await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["error"], body["message"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spin_headers_are_set_by_the_host_and_cannot_be_forged() {
    let app = spawn_app().await;
    let response = app
        .get("/fixture/headers/alice/posts/7?x=1")
        .header("spin-path-match-first-name", "mallory")
        .header("spin-client-addr", "6.6.6.6:1")
        .send()
        .await
        .expect("request");
    let headers: Value = response.json().await.expect("json");
    assert_eq!(headers["spin-path-match-first-name"], "alice", "{headers}");
    assert_eq!(headers["spin-path-info"], "/posts/7");
    assert_eq!(
        headers["spin-raw-component-route"],
        "/fixture/headers/:first_name/..."
    );
    assert_eq!(
        headers["spin-component-route"],
        "/fixture/headers/:first_name"
    );
    assert_eq!(headers["spin-base-path"], "/");
    assert!(
        headers["spin-full-url"]
            .as_str()
            .unwrap_or("")
            .ends_with("/fixture/headers/alice/posts/7?x=1")
    );
    assert!(
        headers["spin-client-addr"]
            .as_str()
            .unwrap_or("")
            .starts_with("127.0.0.1:"),
        "{headers}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_output_is_captured_for_failing_tests() {
    let app = spawn_app().await;
    assert_eq!(app.get_json("/fixture/print").await.0, 200);
    let output = app.guest_output();
    assert!(
        output.contains("[fixture] fixture says hello on stdout"),
        "{output}"
    );
    assert!(
        output.contains("[fixture] fixture says hello on stderr"),
        "{output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_is_200_with_both_stores() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/health/ready").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"status":"ok","dependencies":{"redis":"ok","postgres":"ok"}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_its_concurrency_and_queue_a_component_sheds_with_503() {
    let app = spawn_app_with(AppOptions::fixture().configure(|c| {
        c.limits.max_concurrency = 1;
        c.limits.max_waiting = 0;
    }))
    .await;
    let busy = app.get("/fixture/spin").send();
    let shed = async {
        // Wait until the busy request holds the only slot, however slow the machine is.
        let busy_marker = "urr_in_flight_requests{component=\"fixture\"} 1";
        while !app.host().metrics_text().contains(busy_marker) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        app.get("/fixture/var/greeting")
            .send()
            .await
            .expect("request")
    };
    let (busy, shed) = tokio::join!(busy, shed);
    assert_eq!(busy.expect("request").status(), 504);
    assert_eq!(shed.status(), 503);
    assert_eq!(
        shed.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_eq!(
        shed.json::<Value>().await.expect("json")["code"],
        "overloaded"
    );
    // The slot is free again once the busy request's instance is gone (a moment after its 504).
    let mut status = 0;
    for _ in 0..100 {
        status = app.get_json("/fixture/var/greeting").await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, 200, "the slot must be released");
    let metrics = app.host().metrics_text();
    let shed_count = metrics
        .lines()
        .find_map(|l| l.strip_prefix("urr_shed_requests_total{component=\"fixture\"} "))
        .and_then(|n| n.parse::<u64>().ok());
    assert!(shed_count >= Some(1), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_per_component_and_status_class() {
    let app = spawn_app().await;
    app.get_json("/health").await;
    app.get_json("/fixture/error").await;
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("urr_requests_total{component=\"health\",class=\"2xx\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("urr_requests_total{component=\"fixture\",class=\"5xx\"} 1"),
        "{metrics}"
    );
    // One instance for the request, plus the spare made after it (possibly still being made).
    let instantiations: usize = metrics
        .lines()
        .find_map(|l| l.strip_prefix("urr_instantiation_seconds_count{component=\"fixture\"} "))
        .and_then(|n| n.parse().ok())
        .expect("an instantiation count for fixture");
    assert!(
        (1..=1 + urr_edge::server::FRESH_SPARES).contains(&instantiations),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_gets_a_fresh_instance_unless_reuse_is_on() {
    let app = spawn_app().await;
    for _ in 0..3 {
        assert_eq!(
            app.get_json("/fixture/served").await.1["served"],
            1,
            "state leaked between requests"
        );
    }
    let reusing =
        spawn_app_with(AppOptions::fixture().configure(|c| c.reuse_instances = true)).await;
    let mut most = 0;
    for _ in 0..5 {
        most = most.max(
            reusing.get_json("/fixture/served").await.1["served"]
                .as_u64()
                .unwrap_or(0),
        );
    }
    assert!(
        most > 1,
        "reuse mode should serve sequential requests from one instance (saw {most})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_role_is_refused_on_a_table_it_has_no_grant_for() {
    let app = spawn_app_with(AppOptions::fixture().pg_role("urr_health")).await;
    let (status, body) = app.get_json("/fixture/pg-forbidden").await;
    assert_eq!(status, 200, "{body}");
    let error = body["error"].as_str().unwrap_or("");
    assert!(
        error.contains("42501") && error.contains("permission denied"),
        "{body}"
    );

    // The same query as the database owner succeeds: the refusal is the role's, not the table's.
    let owner = spawn_app().await;
    let body = owner.get_json("/fixture/pg-forbidden").await.1;
    assert_eq!(body["error"], serde_json::Value::Null, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_rows_stream_to_the_guest_beyond_any_buffer() {
    let app = spawn_app().await;
    // More rows than the synchronous query's cap (50,000): only a stream can deliver them. Not
    // many more: the fixture's 2 s deadline must hold on a busy 2-core machine too.
    let body = app.get_json("/fixture/pg-stream?n=60000").await.1;
    assert_eq!(body["count"], 60_000, "{body}");
    assert_eq!(body["sum"], 60_000_i64 * 60_001 / 2, "{body}");
    assert_eq!(body["error"], Value::Null, "{body}");

    // An error after some rows were delivered arrives on the completion future, with its SQLSTATE.
    let body = app.get_json("/fixture/pg-stream?n=10000&fail").await.1;
    assert!(
        body["error"].as_str().unwrap_or("").contains("22012"),
        "division by zero expected: {body}"
    );
    assert!(body["count"].as_i64().unwrap_or(0) < 10_000, "{body}");
}
