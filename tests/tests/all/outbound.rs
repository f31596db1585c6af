//! Outbound HTTP from a guest: the allow-list, the timeouts and the response cap, against small
//! loopback servers started by the test.

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use urr_tests::{AppOptions, spawn_app_with};

/// A loopback server answering every request with `body` (or never answering, when `None`).
async fn serve(body: Option<Vec<u8>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                match body {
                    Some(body) => {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = stream.write_all(head.as_bytes()).await;
                        let _ = stream.write_all(&body).await;
                    }
                    // Hold the connection open and say nothing.
                    None => tokio::time::sleep(Duration::from_secs(30)).await,
                }
            });
        }
    });
    addr
}

fn app_for(addr: &str) -> AppOptions {
    AppOptions::fixture()
        .variable("http_host", addr)
        .configure(|c| {
            c.http.total_timeout = Duration::from_millis(500);
            c.http.max_response_bytes = 1000;
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_loopback_server_answers() {
    let addr = serve(Some(b"pong".to_vec())).await;
    let app = spawn_app_with(app_for(&addr)).await;
    let body = app
        .get_json(&format!("/fixture/outbound?url=http://{addr}/ping"))
        .await
        .1;
    assert_eq!(body["status"], 200, "{body}");
    assert_eq!(body["bytes"], 4, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_times_out_as_an_error_value() {
    let addr = serve(None).await;
    let app = spawn_app_with(app_for(&addr)).await;
    let started = Instant::now();
    let (status, body) = app
        .get_json(&format!("/fixture/outbound?url=http://{addr}/slow"))
        .await;
    assert_eq!(
        status, 200,
        "the guest gets an error value, not a trap: {body}"
    );
    assert!(
        body["error"].as_str().unwrap_or("").contains("Timeout"),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the total timeout is 500 ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_over_the_cap_is_refused() {
    let addr = serve(Some(vec![b'z'; 5000])).await;
    let app = spawn_app_with(app_for(&addr)).await;
    let body = app
        .get_json(&format!("/fixture/outbound?url=http://{addr}/big"))
        .await
        .1;
    let text = body.to_string();
    assert!(text.contains("HttpResponseBodySize"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_outside_the_allow_list_is_denied_even_on_loopback() {
    let allowed = serve(Some(b"ok".to_vec())).await;
    let other = serve(Some(b"ok".to_vec())).await;
    let app = spawn_app_with(app_for(&allowed)).await;
    let body = app
        .get_json(&format!("/fixture/outbound?url=http://{other}/"))
        .await
        .1;
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .contains("HttpRequestDenied"),
        "{body}"
    );
}
