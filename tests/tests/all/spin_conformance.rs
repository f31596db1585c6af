//! The host is never more forgiving than Spin. Each test pins one rule Spin applies, through the
//! real host: a manifest Spin would not run is refused at boot, and the Postgres interface binds
//! and decodes as Spin's does. The same tests run on Spin itself in the conformance run
//! (`scripts/spin-conformance`), which is what makes them a statement about Spin and not only
//! about this host.

use urr_tests::{AppOptions, repo_root, spawn_app, try_spawn_app};

/// spin.toml with one edit, written next to the real one (relative `source` paths still resolve).
fn edited_manifest(name: &str, from: &str, to: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(repo_root().join("spin.toml")).expect("spin.toml");
    assert!(text.contains(from), "spin.toml no longer contains `{from}`");
    let path = repo_root().join(format!("target/spin-conformance-{name}.toml"));
    std::fs::create_dir_all(repo_root().join("target")).expect("target/");
    // The copy lives one level down: point its sources back at the components.
    let edited = text
        .replace(from, to)
        .replace("source = \"components/", "source = \"../components/")
        .replace("workdir = \"components\"", "workdir = \"../components\"");
    std::fs::write(&path, edited).expect("write the edited manifest");
    path
}

async fn boot_error(manifest: std::path::PathBuf) -> String {
    match try_spawn_app(AppOptions::manifest(manifest)).await {
        Ok(_) => panic!("the host booted a manifest Spin would not run"),
        Err(e) => format!("{e:#}"),
    }
}

/// What `pay` and `payments` once had: `{{ payment_provider_url }}`, a component variable, in
/// `allowed_outbound_hosts`. Spin resolves manifest expressions with application variables only,
/// so on Spin those components could reach nothing; the host now refuses to boot it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_variable_in_allowed_outbound_hosts_is_refused_at_boot() {
    let manifest = edited_manifest(
        "component-variable",
        "allowed_outbound_hosts = [\"{{ provider_base_url }}\", \"redis://{{ redis_host }}\", \"rediss://{{ redis_host }}\", \"postgres://{{ pg_host }}\"]\n\n[component.pay.variables]",
        "allowed_outbound_hosts = [\"{{ payment_provider_url }}\", \"redis://{{ redis_host }}\", \"rediss://{{ redis_host }}\", \"postgres://{{ pg_host }}\"]\n\n[component.pay.variables]",
    );
    let err = boot_error(manifest).await;
    assert!(err.contains("component `pay`"), "{err}");
    assert!(err.contains("{{ payment_provider_url }}"), "{err}");
    assert!(
        err.contains("only application variables"),
        "the refusal says why: {err}"
    );
}

/// An entry whose resolved value Spin's grammar refuses (a path) stops the boot: on Spin the
/// whole list would fail to parse when the first request needs it, denying everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_host_spin_cannot_parse_is_refused_at_boot() {
    let manifest = edited_manifest(
        "bad-host",
        "allowed_outbound_hosts = [\"{{ provider_base_url }}\", \"redis://{{ redis_host }}\", \"rediss://{{ redis_host }}\", \"postgres://{{ pg_host }}\"]\n\n[component.pay.variables]",
        "allowed_outbound_hosts = [\"{{ provider_base_url }}/v1\", \"redis://{{ redis_host }}\", \"rediss://{{ redis_host }}\", \"postgres://{{ pg_host }}\"]\n\n[component.pay.variables]",
    );
    let err = boot_error(manifest).await;
    assert!(err.contains("component `pay`"), "{err}");
    assert!(err.contains("path"), "{err}");
}

/// `rediss` has no well-known port in Spin: an entry without one is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rediss_host_without_a_port_is_refused_at_boot() {
    let options = AppOptions::application().variable("redis_host", "cache.internal");
    let err = match try_spawn_app(options).await {
        Ok(_) => panic!("booted `rediss://cache.internal` with no port"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("rediss"), "{err}");
    assert!(err.contains("default port"), "{err}");
}

/// A component variable referring to an undeclared application variable, an unknown manifest
/// field and a non-kebab component id: each refused, as Spin's loader refuses them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spins_loader_refusals_are_the_hosts() {
    for (name, from, to, expect) in [
        (
            "undeclared",
            "payment_provider_url = \"{{ provider_base_url }}\"",
            "payment_provider_url = \"{{ provider_url }}\"",
            "undeclared application variable `provider_url`",
        ),
        (
            "unknown-field",
            "[component.pay]\n",
            "[component.pay]\nallowed_outbound_host = []\n",
            "allowed_outbound_host",
        ),
        (
            "snake-id",
            "component = \"auth-refresh\"",
            "component = \"auth_refresh\"",
            "auth_refresh",
        ),
    ] {
        let err = boot_error(edited_manifest(name, from, to)).await;
        // Spin words its refusals its own way; the host's words are pinned here.
        if urr_tests::spin::spin_cli().is_none() {
            assert!(err.contains(expect), "{name}: {err}");
        }
    }
}

/// Spin binds every parameter with the type the server infers for it and refuses a value
/// `postgres-types` does not accept for that type; it converts a bad value before sending
/// anything; it reads no `timestamptz` column; an empty result has no columns; `execute` runs
/// one statement. Each case is one statement run by the fixture component.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_parameters_bind_with_their_declared_types_as_in_spin() {
    let app = spawn_app().await;
    let (status, report) = app.get_json("/fixture/pg-strict").await;
    assert_eq!(status, 200, "{report}");
    let outcome = |case: &str| -> String {
        report[case]
            .as_str()
            .unwrap_or_else(|| panic!("no case `{case}` in {report}"))
            .to_string()
    };
    let refused_as_wrong_type = |case: &str, postgres: &str| {
        let text = outcome(case);
        assert!(
            text.starts_with("error") && text.contains("QueryFailed") && text.contains("WrongType"),
            "{case} must be refused as WrongType: {text}"
        );
        // Spin names the type as tokio-postgres' `Type` prints it (`Uuid`), the host as SQL does.
        assert!(
            text.to_ascii_lowercase().contains(postgres),
            "{case}: {text}"
        );
    };
    let accepted = |case: &str| {
        let text = outcome(case);
        assert!(text.starts_with("ok"), "{case} must be accepted: {text}");
        text
    };

    refused_as_wrong_type("uuid_as_str", "uuid");
    assert!(accepted("uuid_as_uuid").contains("0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b"));
    accepted("uuid_via_text");
    assert!(accepted("uuid_as_null").contains("DbNull"));
    refused_as_wrong_type("int8_as_int32", "int8");
    refused_as_wrong_type("int4_as_int64", "int4");
    accepted("int8_as_int64");
    refused_as_wrong_type("jsonb_as_str", "jsonb");
    accepted("jsonb_as_jsonb");
    assert!(
        accepted("json_as_jsonb").contains("[1]"),
        "json takes jsonb too"
    );
    refused_as_wrong_type("timestamptz_as_str", "timestamptz");
    refused_as_wrong_type("timestamptz_as_datetime", "timestamptz");
    refused_as_wrong_type("timestamp_as_timestamp", "timestamp");
    accepted("timestamptz_as_timestamp");
    refused_as_wrong_type("inet_as_str", "inet");
    accepted("inet_via_text");
    assert!(accepted("varchar_array_as_strs").contains("ArrayStr"));

    let count = outcome("too_few_parameters");
    assert!(
        count.starts_with("error") && count.contains("QueryFailed"),
        "{count}"
    );
    let bad = outcome("bad_uuid");
    assert!(bad.contains("BadParameter"), "query: {bad}");
    let bad = outcome("execute_bad_uuid");
    assert!(bad.contains("ValueConversionFailed"), "execute: {bad}");
    let inexact = outcome("inexact_decimal");
    assert!(
        inexact.contains("BadParameter"),
        "decimals convert exactly: {inexact}"
    );

    let read = outcome("read_timestamptz");
    assert!(
        read.starts_with("error") && read.contains("QueryFailed"),
        "a timestamptz column cannot be read: {read}"
    );
    assert!(accepted("read_name").contains("Unsupported"));
    assert!(accepted("read_json").contains("Unsupported"));
    assert!(accepted("empty_result_columns").contains("columns=0"));

    let two = outcome("execute_two_statements");
    assert!(
        two.starts_with("Err") && two.contains("42601"),
        "one statement per execute (the extended protocol): {two}"
    );
}

/// Test servers get a port that was free when picked and released before the server bound it,
/// so two tests starting servers at once can be handed the same port. The second server then
/// fails to bind; an answer on the port must never pass for its own (it comes from the other
/// test's server, with the other test's database). This once made two payment tests of a
/// conformance run talk to one Spin: a 404 for a reservation the other world did not have.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_on_our_port_that_is_not_ours_is_never_taken_for_ours() {
    // A private Redis asked for a port another private Redis holds.
    let first = urr_tests::private_redis::PrivateRedis::start().expect("a private redis");
    let dir = std::env::temp_dir().join(format!("urr-second-redis-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("a folder for the second redis");
    let second = urr_edge::devstack::spawn_redis(first.port, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    match second {
        Ok(mut child) => {
            let _ = child.kill();
            panic!("a second redis-server on a taken port passed for started")
        }
        Err(e) => println!("the second redis-server was refused: {e:#}"),
    }

    // On a conformance run: `spin up` asked for a port an HTTP server already answers on.
    let Some(cli) = urr_tests::spin::spin_cli() else {
        return;
    };
    let imposter = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port for the other server");
    let port = imposter.local_addr().expect("its address").port();
    let answering = tokio::spawn(async move {
        while let Ok((mut stream, _)) = imposter.accept().await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            // Read the request first: closing with it unread would reset the connection.
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request).await;
            let _ = stream
                .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                .await;
            let _ = stream.shutdown().await;
        }
    });
    let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let started = urr_tests::spin::start_on(
        &cli,
        &repo_root().join("spin.toml"),
        &Default::default(),
        output,
        port,
    )
    .await;
    answering.abort();
    match started {
        Ok(app) => panic!(
            "the other server's answer passed for spin up at {}",
            app.url
        ),
        Err(e) => println!("spin up on a taken port was refused: {e:#}"),
    }
}
