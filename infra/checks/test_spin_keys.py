"""Keys and settings in the formats the components read them, checked the way they read them:
the example keys of terraform.tfvars.example, the output of the key commands docs/deploy.md gives,
and the checks fetch-spin-env runs on every start (with the same bounds as the Rust code). Also:
the fleet runs Spin with the settings the conformance run tests with."""

import base64
import importlib.util
import re
import shutil
import subprocess

import pytest

from tfconfig import ENVS, EXPECTED_ENVS, MODULES, REPO

FLEET_FILES = MODULES / "spin_fleet" / "files"
DEPLOY_DOC = REPO / "docs" / "deploy.md"

# RFC 8032, section 7.1, test 1: a published seed and its public key.
RFC_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")


@pytest.fixture(scope="module")
def fetch():
    spec = importlib.util.spec_from_file_location("fetch_spin_env", FLEET_FILES / "fetch-spin-env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pem_of_seed(fetch, seed):
    der = fetch.PKCS8_ED25519_PREFIX + seed
    body = base64.b64encode(der).decode()
    return "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n"


def rust_const(path, name):
    text = (REPO / path).read_text()
    match = re.search(rf"pub const {name}: \w+ = ([0-9_ *]+);", text)
    assert match, f"{name} not found in {path}"
    return eval(match.group(1).replace("_", ""))  # a literal product such as 24 * 60 * 60


def test_the_checks_use_the_components_bounds(fetch):
    assert fetch.MAX_PUBLIC_KEYS == rust_const("shared/tokens/src/keys.rs", "MAX_PUBLIC_KEYS")
    assert "{1,%d}" % rust_const("shared/tokens/src/keys.rs", "MAX_KID_BYTES") in fetch.KID.pattern
    per_minute = rust_const("shared/ratelimit/src/lib.rs", "MAX_PER_MINUTE")
    fetch.check_values({"rate_limits": f"auth={per_minute}"})
    with pytest.raises(SystemExit):
        fetch.check_values({"rate_limits": f"auth={per_minute + 1}"})
    for name, value in [("threshold", "MAX_THRESHOLD"), ("rate", "MAX_RATE"), ("presale_pool", "MAX_PRESALE_POOL")]:
        top = rust_const("shared/queue/src/settings.rs", value)
        fetch.check_values({"queue_settings": f"{name}={top}"})
        with pytest.raises(SystemExit):
            fetch.check_values({"queue_settings": f"{name}={top + 1}"})
    day = rust_const("shared/queue/src/settings.rs", "MAX_DURATION_SECS")
    with pytest.raises(SystemExit):
        fetch.check_values({"queue_settings": f"slot_secs={day + 1}"})
    ttl = rust_const("shared/booking/src/config.rs", "MAX_TTL_SECS")
    fetch.check_values({"hold_ttl_secs": str(ttl)})
    with pytest.raises(SystemExit):
        fetch.check_values({"hold_ttl_secs": str(ttl + 1)})
    grace = rust_const("shared/auth/src/refresh.rs", "MAX_GRACE_MS")
    with pytest.raises(SystemExit):
        fetch.check_values({"refresh_grace_ms": str(grace + 1)})


def test_the_ed25519_arithmetic_matches_rfc_8032(fetch):
    assert fetch.public_of_seed(RFC_SEED) == RFC_PUBLIC
    assert fetch.seed_of_pem("k", pem_of_seed(fetch, RFC_SEED)) == RFC_SEED
    assert fetch.is_curve_point(RFC_PUBLIC)


def tfvars(env_name):
    text = (ENVS / env_name / "terraform.tfvars.example").read_text()
    return dict(re.findall(r'^([a-z_]+)\s*=\s*"([^"]*)"', text, re.M))


@pytest.mark.parametrize("env_name", EXPECTED_ENVS)
def test_the_example_keys_parse_and_each_signing_kid_names_an_entry(fetch, env_name):
    values = tfvars(env_name)
    for kid, public in (("jwt_signing_kid", "jwt_public_keys"), ("queue_signing_kid", "queue_public_keys")):
        keys = fetch.parse_key_set(public, values[public])
        assert values[kid] in keys, f"{env_name}: {kid} {values[kid]!r} is not an entry of {public}"
    # The session and entry-token keys are different keys.
    assert not set(fetch.parse_key_set("j", values["jwt_public_keys"]).values()) & set(
        fetch.parse_key_set("q", values["queue_public_keys"]).values()
    )


def test_key_sets_are_refused_as_the_components_refuse_them(fetch):
    good = "k1:" + base64.b64encode(RFC_PUBLIC).decode()
    fetch.parse_key_set("s", good)
    fetch.parse_key_set("s", good + ", k2:" + base64.b64encode(RFC_PUBLIC).decode())
    for bad in [
        "",
        base64.b64encode(RFC_PUBLIC).decode(),  # no kid
        "k 1:" + base64.b64encode(RFC_PUBLIC).decode(),  # a space in the kid
        "k" * 65 + ":" + base64.b64encode(RFC_PUBLIC).decode(),
        "k1:" + base64.b64encode(RFC_PUBLIC[:31]).decode(),  # 31 bytes
        "k1:" + base64.b64encode(RFC_PUBLIC).decode().rstrip("="),  # padding dropped
        good + "," + good,  # the same kid twice
        ",".join(f"k{i}:" + base64.b64encode(RFC_PUBLIC).decode() for i in range(5)),  # five keys
        '{"keys":[{"kid":"a"}]}',  # a JWKS is not the format
    ]:
        with pytest.raises(ValueError):
            fetch.parse_key_set("s", bad)


def test_a_signing_key_must_be_the_private_half_of_its_entry(fetch):
    values = {
        "jwt_signing_key": pem_of_seed(fetch, RFC_SEED),
        "jwt_signing_kid": "k1",
        "jwt_public_keys": "k1:" + base64.b64encode(RFC_PUBLIC).decode(),
    }
    fetch.check_values(values)
    other = fetch.public_of_seed(bytes(32))
    for change, words in [
        ({"jwt_signing_kid": "k2"}, "not listed"),
        ({"jwt_public_keys": "k1:" + base64.b64encode(other).decode()}, "private half"),
        ({"jwt_signing_key": "base64 of 48 random bytes"}, "PEM"),
    ]:
        with pytest.raises(SystemExit, match=words):
            fetch.check_values({**values, **change})
    with pytest.raises(SystemExit, match="needs"):
        fetch.check_values({"jwt_signing_key": values["jwt_signing_key"]})


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_the_documented_key_commands_give_what_the_components_read(fetch, tmp_path):
    """Runs the commands of docs/deploy.md section 3 and checks their output as the fleet does."""
    doc = DEPLOY_DOC.read_text()
    block = doc[doc.index("KID=jwt-$(date +%Y-%m)") :]
    block = block[: block.index("```")]
    script = "set -euo pipefail\ncd " + str(tmp_path) + "\n" + block
    printed = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout.split()
    entries = [line for line in printed if re.match(r"^(jwt|queue)-\d{4}-\d{2}:", line)]
    assert len(entries) == 2, printed
    values = {}
    for entry, name in zip(entries, ("jwt", "queue")):
        kid = entry.split(":", 1)[0]
        values[f"{name}_public_keys"] = entry
        values[f"{name}_signing_kid"] = kid
        values[f"{name}_signing_key"] = (tmp_path / f"{kid}.pem").read_text()
    fetch.check_values(values)


def test_the_fleet_runs_spin_with_the_settings_the_conformance_run_tests():
    harness = (REPO / "host" / "src" / "spin_cli.rs").read_text()
    flags = harness[harness.index("pub const PRODUCTION_FLAGS") :]
    flags = re.findall(r'"([^"]+)"', flags[: flags.index("];")])
    assert flags, "no PRODUCTION_FLAGS in host/src/spin_cli.rs"
    start = (FLEET_FILES / "start-spin.sh").read_text()
    command = " ".join(start[start.index("exec spin up") :].replace("\\\n", " ").split())
    for name, value in zip(flags[::2], flags[1::2]):
        assert f"{name} {value}" in command, f"start-spin.sh does not pass {name} {value}"
