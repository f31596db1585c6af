"""Every Spin variable the application declares reaches the fleet from the right store, and the
boot-time resolver composes and writes them correctly (run here against a stub AWS CLI)."""

import json
import os
import re
import stat
import subprocess
import sys
import textwrap
import tomllib

import pytest

from tfconfig import EXPECTED_ENVS, MODULES, REPO, env_value, module_default, one, stack

FLEET_FILES = MODULES / "spin_fleet" / "files"
TEMPLATE = MODULES / "spin_fleet" / "templates" / "user-data.sh.tftpl"
DEPLOY_DOC = REPO / "docs" / "deploy.md"

# Variables planned for spin.toml that components not yet written will declare.
PLANNED = {
    "redis_address", "redis_host", "pg_host", "key_prefix",
    "pg_address_auth", "pg_address_catalog", "pg_address_queue", "pg_address_booking",
    "pg_address_booking_read", "pg_address_payments", "pg_address_admin", "pg_address_stats",
    "pg_address_health", "pg_address_community", "pg_address_news",
    "pg_address_metrics", "pg_address_artists", "pg_address_memberships",
    "jwt_public_keys", "jwt_private_key", "queue_signing_key",
    "provider_base_url", "provider_secret_key", "provider_client_key", "provider_webhook_secret",
    "allowed_origins", "trusted_client_ip_header", "cancel_cutoff_secs", "development_mode",
}  # fmt: skip


def spin_toml_variables():
    manifest = tomllib.loads((REPO / "spin.toml").read_text())
    return manifest.get("variables", {})


def mapped_variables(env_name):
    """name -> "plain" | "secret" as the stack module wires them for the environment."""
    plain = one(stack().modules["spin_fleet"]["plain_variables"])
    external = env_value(env_name, "secrets", "external_secret_variables")
    suffixes = module_default("secrets", "database_role_suffixes")
    mapping = {name: "plain" for name in plain}
    mapping.update({name: "secret" for name in external})
    mapping.update({f"pg_address_{s}": "secret" for s in suffixes})
    mapping["redis_address"] = "secret"
    return mapping


@pytest.mark.parametrize("env_name", EXPECTED_ENVS)
def test_every_spin_toml_variable_is_resolved_by_the_fleet(env_name):
    declared = spin_toml_variables()
    mapped = mapped_variables(env_name)
    missing = sorted(set(declared) - set(mapped))
    assert not missing, f"spin.toml variables the fleet would leave at their local defaults: {missing}"
    for name, spec in declared.items():
        if spec.get("secret"):
            assert mapped[name] == "secret", f"{name} is secret in spin.toml but comes from a plain parameter"


@pytest.mark.parametrize("env_name", EXPECTED_ENVS)
def test_the_fleet_maps_only_declared_or_planned_variables(env_name):
    unknown = set(mapped_variables(env_name)) - set(spin_toml_variables()) - PLANNED
    assert not unknown, f"mapped but neither in spin.toml nor planned: {sorted(unknown)}"


def test_deploy_doc_maps_every_spin_variable():
    text = DEPLOY_DOC.read_text()
    for name in sorted(set(mapped_variables("prod")) | set(spin_toml_variables())):
        assert re.search(rf"^\|\s*`{name}`\s*\|", text, re.M), f"docs/deploy.md has no table row for `{name}`"


def test_user_data_template_gets_exactly_its_placeholders():
    main = (MODULES / "spin_fleet" / "main.tf").read_text()
    call = main[main.index('templatefile("${path.module}/templates/user-data.sh.tftpl", {'):]
    call = call[: call.index("})")]
    given = set(re.findall(r"^\s+([a-z_]+)\s+=", call, re.M))
    template = TEMPLATE.read_text()
    used = set(re.findall(r"(?<!\$)\$\{([a-z_]+)\}", template))
    assert used == given
    # Values are never in user data: only the resolver, at service start, fetches them.
    assert "get-secret-value" not in template and "SecretString" not in template


def test_service_unit_resolves_variables_before_every_start_into_a_private_tmpfs():
    unit = (FLEET_FILES / "urr-spin.service").read_text()
    assert "ExecStartPre=/usr/local/libexec/urr/fetch-spin-env" in unit
    assert "RuntimeDirectory=urr" in unit and "RuntimeDirectoryMode=0700" in unit
    assert "EnvironmentFile" not in unit
    start = FLEET_FILES / "start-spin.sh"
    subprocess.run(["bash", "-n", str(start)], check=True)
    text = start.read_text()
    assert "setpriv --reuid=urr" in text and "spin up" in text and "--from" in text


# --- The resolver, against a stub AWS CLI --------------------------------------------------------

PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI/with'quote\"and$dollar\n-----END PRIVATE KEY-----"
# A public key set the components accept (RFC 8032's first test vector, a published key).
PUBLIC_KEYS = "rfc8032-1:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

STUB_AWS = textwrap.dedent(
    """\
    #!{python}
    import json, os, sys
    answers = json.load(open(os.environ["STUB_ANSWERS"]))
    args = sys.argv[1:]
    if "get-parameters-by-path" in args:
        path = args[args.index("--path") + 1]
        print(json.dumps([{{"Name": path + k, "Value": v}} for k, v in answers["parameters"].items()]))
    elif "get-secret-value" in args:
        arn = args[args.index("--secret-id") + 1]
        if arn not in answers["secrets"]:
            print("ResourceNotFoundException", file=sys.stderr)
            sys.exit(254)
        print(json.dumps(answers["secrets"][arn]))
    else:
        sys.exit(2)
    """
)


@pytest.fixture
def resolver(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "aws"
    stub.write_text(STUB_AWS.format(python=sys.executable))
    stub.chmod(0o755)
    config = {
        "region": "ap-northeast-2",
        "environment": "test",
        "parameter_path": "/urr/test/spin/",
        "plain_variables": ["key_prefix", "jwt_public_keys"],
        "secret_variables": {"jwt_private_key": "arn:jwt"},
        "database_variables": {"pg_address_auth": "arn:db:auth"},
        "database": {"host": "proxy.example", "port": 5432, "name": "urr"},
        "redis": {"variable": "redis_address", "host": "redis.example", "port": 6379, "auth_secret_arn": "arn:redis"},
        "app": {"registry": "1.dkr.ecr", "reference": "1.dkr.ecr/urr:1.0.0", "listen_port": 8443},
        "otel_exporter_otlp_endpoint": "",
        "config_generation": 1,
    }
    answers = {
        "parameters": {"key_prefix": "urr", "jwt_public_keys": PUBLIC_KEYS, "unrelated": "x"},
        "secrets": {
            "arn:jwt": PRIVATE_KEY,
            "arn:db:auth": json.dumps({"username": "urr_auth", "password": "p@ss/w:rd%"}),
            "arn:redis": "tok/en",
        },
    }

    def run(mutate=None):
        if mutate:
            mutate(config, answers)
        (tmp_path / "fleet.json").write_text(json.dumps(config))
        (tmp_path / "answers.json").write_text(json.dumps(answers))
        environment = dict(
            os.environ,
            PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            STUB_ANSWERS=str(tmp_path / "answers.json"),
            URR_FLEET_CONFIG=str(tmp_path / "fleet.json"),
            URR_RUNTIME_DIR=str(tmp_path / "run"),
        )
        return subprocess.run(
            [sys.executable, str(FLEET_FILES / "fetch-spin-env.py")], env=environment, capture_output=True, text=True
        )

    return run, tmp_path / "run" / "spin.env"


def sourced(env_file, name):
    """The value of a variable after bash sources the file (as start-spin.sh does)."""
    script = f'set -a; . "{env_file}"; set +a; printf %s "${name}"'
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout


def test_resolver_writes_every_variable_for_spin_root_only(resolver):
    run, env_file = resolver
    result = run()
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert sourced(env_file, "SPIN_VARIABLE_KEY_PREFIX") == "urr"
    assert sourced(env_file, "SPIN_VARIABLE_JWT_PUBLIC_KEYS") == PUBLIC_KEYS
    assert sourced(env_file, "SPIN_VARIABLE_JWT_PRIVATE_KEY") == PRIVATE_KEY
    assert sourced(env_file, "SPIN_VARIABLE_UNRELATED") == ""
    assert sourced(env_file, "URR_APP_REFERENCE") == "1.dkr.ecr/urr:1.0.0"


def test_resolver_composes_store_addresses_with_escaped_credentials(resolver):
    run, env_file = resolver
    assert run().returncode == 0
    assert sourced(env_file, "SPIN_VARIABLE_REDIS_ADDRESS") == "rediss://:tok%2Fen@redis.example:6379"
    assert (
        sourced(env_file, "SPIN_VARIABLE_PG_ADDRESS_AUTH")
        == "postgres://urr_auth:p%40ss%2Fw%3Ard%25@proxy.example:5432/urr?sslmode=require"
    )


def test_resolver_refuses_to_start_with_a_missing_variable(resolver):
    run, env_file = resolver
    result = run(lambda config, answers: answers["parameters"].pop("jwt_public_keys"))
    assert result.returncode != 0
    assert "jwt_public_keys" in result.stderr
    assert not env_file.exists()


def test_resolver_fails_when_a_secret_cannot_be_read(resolver):
    run, env_file = resolver
    result = run(lambda config, answers: answers["secrets"].pop("arn:redis"))
    assert result.returncode != 0
    assert not env_file.exists()
