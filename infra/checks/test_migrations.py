"""The migration step: role bootstrap SQL and its SCRAM verifiers, the task wiring and the runner."""

import base64
import hashlib
import hmac
import importlib.util
import json
import subprocess

import pytest

from tfconfig import EXPECTED_ENVS, INFRA, STACK, env, module, one, ref, stack

spec = importlib.util.spec_from_file_location("bootstrap_roles", INFRA / "migrations" / "bootstrap_roles.py")
bootstrap_roles = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bootstrap_roles)


def test_scram_verifier_matches_the_rfc_7677_example():
    # RFC 7677, section 3: user "user", password "pencil".
    salt = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
    verifier = bootstrap_roles.scram_sha256_verifier("pencil", salt, 4096)
    keys = verifier.split("$")[2]
    stored_key, server_key = (base64.b64decode(k) for k in keys.split(":"))
    nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    auth_message = f"n=user,r=rOprNGfwEbeRWgbNEkqO,r={nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r={nonce}".encode()
    server_signature = hmac.new(server_key, auth_message, hashlib.sha256).digest()
    assert base64.b64encode(server_signature).decode() == "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    proof = base64.b64decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    client_key = bytes(a ^ b for a, b in zip(proof, hmac.new(stored_key, auth_message, hashlib.sha256).digest()))
    assert hashlib.sha256(client_key).digest() == stored_key


def role_environment(**passwords):
    return {f"ROLE_CREDENTIALS_{role.upper()}": json.dumps({"username": role, "password": pw}) for role, pw in passwords.items()}


def test_bootstrap_sql_is_idempotent_and_never_carries_a_clear_text_password():
    sql = bootstrap_roles.bootstrap_sql(["urr_auth", "urr_catalog"], "urr", role_environment(urr_auth="s3cret-a", urr_catalog="s3cret-b"))
    assert "s3cret" not in sql
    assert sql.count("IF NOT EXISTS (SELECT FROM pg_roles") == 2
    assert sql.count("PASSWORD 'SCRAM-SHA-256$4096:") == 2
    assert 'GRANT CONNECT ON DATABASE "urr" TO urr_auth;' in sql


@pytest.mark.parametrize("role", ["postgres", "urr_auth; DROP TABLE x", "URR_AUTH", "rds_superuser"])
def test_bootstrap_refuses_unexpected_role_names(role):
    with pytest.raises(ValueError):
        bootstrap_roles.bootstrap_sql([role], "urr", {f"ROLE_CREDENTIALS_{role.upper()}": json.dumps({"username": role, "password": "x"})})


def test_bootstrap_refuses_a_secret_for_another_user():
    environ = {"ROLE_CREDENTIALS_URR_AUTH": json.dumps({"username": "urr_admin", "password": "x"})}
    with pytest.raises(ValueError):
        bootstrap_roles.bootstrap_sql(["urr_auth"], "urr", environ)


def test_migration_task_gets_credentials_only_as_injected_secrets():
    migrations = module("migrations")
    container = migrations.locals["container"]
    text = json.dumps(container)
    assert "MASTER_CREDENTIALS" in text and "var.master_secret_arn" in text
    assert "password" not in text.lower()
    environment = one(one(container)["environment"])
    assert {e["name"] for e in environment} == {"PGHOST", "PGPORT", "PGDATABASE", "URR_ROLES"}
    call = stack().modules["migrations"]
    assert ref(call["master_secret_arn"]) == "module.postgres.master_user_secret_arn"
    assert ref(call["role_secret_arns"]) == "module.secrets.database_secret_arns"
    assert ref(call["image_tag"]) == "coalesce(var.migrations_version,var.app_version)"
    # Each environment forwards both versions from its own inputs.
    for name in EXPECTED_ENVS:
        call = env(name).modules[STACK]
        assert ref(call["migrations_version"]) == "var.migrations_version"
        assert ref(call["app_version"]) == "var.app_version"


def test_migration_image_and_runner_are_well_formed():
    dockerfile = (INFRA / "migrations" / "Dockerfile").read_text()
    assert "COPY migrations/ /opt/urr/migrations/" in dockerfile
    assert "USER 10001" in dockerfile
    subprocess.run(["sh", "-n", str(INFRA / "migrations" / "entrypoint.sh")], check=True)
    subprocess.run(["bash", "-n", str(INFRA / "scripts" / "run-migrations.sh")], check=True)
