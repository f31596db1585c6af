#!/usr/bin/env python3
"""Resolve URR Edge's Spin variables when urr-spin.service starts.

Runs as root (ExecStartPre). Reads the non-secret wiring from /etc/urr/fleet.json, fetches
plain configuration from SSM Parameter Store and secrets from Secrets Manager with the instance
role, and writes them as SPIN_VARIABLE_<NAME> assignments to a root-only file on tmpfs
(/run/urr), which the start script loads. No value is ever in user data or on disk.

Composed variables:
  redis_address    rediss://:<token>@<primary endpoint>:<port>
  pg_address_<x>   postgres://<user>:<password>@<RDS Proxy>:<port>/<db>?sslmode=require

Exits non-zero if any expected variable is missing, or if a value does not parse the way the
components read it (check_values: the key sets and signing keys exactly as urr_tokens reads them,
each signing key the public half of its kid's entry; the settings with the components' bounds;
the hosts and URLs allowed_outbound_hosts is built from), so a misconfigured instance never turns
healthy and an instance refresh rolls back. Python 3.9 compatible (Amazon Linux 2023).
"""

import base64
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import urllib.parse

CONFIG_PATH = os.environ.get("URR_FLEET_CONFIG", "/etc/urr/fleet.json")
OUTPUT_DIR = os.environ.get("URR_RUNTIME_DIR", "/run/urr")
VARIABLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def aws(region, *args):
    """Run the AWS CLI and return its parsed JSON output."""
    command = ["aws", "--region", region, "--output", "json", *args]
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(result.stdout)


def secret_string(region, secret_arn):
    return aws(
        region,
        "secretsmanager",
        "get-secret-value",
        "--secret-id",
        secret_arn,
        "--query",
        "SecretString",
    )


def parameters_by_path(region, path):
    """Every parameter directly under path, keyed by its last path segment."""
    found = aws(
        region,
        "ssm",
        "get-parameters-by-path",
        "--path",
        path,
        "--with-decryption",
        "--query",
        "Parameters[].{Name: Name, Value: Value}",
    )
    return {p["Name"].rsplit("/", 1)[-1]: p["Value"] for p in found or []}


def quote(value):
    return urllib.parse.quote(value, safe="")


def resolve(config):
    region = config["region"]
    values = {}

    for name, value in parameters_by_path(region, config["parameter_path"]).items():
        if name in config["plain_variables"]:
            values[name] = value

    for name, secret_arn in config["secret_variables"].items():
        values[name] = secret_string(region, secret_arn)

    redis = config["redis"]
    token = secret_string(region, redis["auth_secret_arn"])
    values[redis["variable"]] = "rediss://:{}@{}:{}".format(quote(token), redis["host"], redis["port"])

    database = config["database"]
    for name, secret_arn in config["database_variables"].items():
        credentials = json.loads(secret_string(region, secret_arn))
        values[name] = "postgres://{}:{}@{}:{}/{}?sslmode=require".format(
            quote(credentials["username"]),
            quote(credentials["password"]),
            database["host"],
            database["port"],
            database["name"],
        )

    return values


def check(config, values):
    expected = set(config["plain_variables"]) | set(config["secret_variables"])
    expected |= set(config["database_variables"]) | {config["redis"]["variable"]}
    missing = sorted(name for name in expected if not values.get(name))
    if missing:
        raise SystemExit("urr: Spin variables without a value: " + ", ".join(missing))
    bad = sorted(name for name in values if not VARIABLE_NAME.match(name))
    if bad:
        raise SystemExit("urr: invalid Spin variable names: " + ", ".join(bad))


# ---- Values as the components read them (urr_tokens, urr_ratelimit, urr_queue, urr_booking) ----

KID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")  # urr_tokens::keys::check_kid, MAX_KID_BYTES
MAX_PUBLIC_KEYS = 4  # urr_tokens::keys::MAX_PUBLIC_KEYS
# DER of a PKCS#8 v1 Ed25519 private key, before its 32-byte seed (what `openssl genpkey` writes
# and ed25519-compact reads).
PKCS8_ED25519_PREFIX = bytes.fromhex("302e020100300506032b657004220420")

# Ed25519 (RFC 8032, section 5.1): enough to check a public key is a curve point and to derive
# the public key of a private one.
P = 2**255 - 19
L_ORDER = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def _add(a, b):
    aa = (a[1] - a[0]) * (b[1] - b[0]) % P
    bb = (a[1] + a[0]) * (b[1] + b[0]) % P
    cc = 2 * a[3] * b[3] * D % P
    dd = 2 * a[2] * b[2] % P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(scalar, point):
    result = (0, 1, 1, 0)
    while scalar:
        if scalar & 1:
            result = _add(result, point)
        point = _add(point, point)
        scalar >>= 1
    return result


_GY = 4 * pow(5, P - 2, P) % P
_GX = _recover_x(_GY, 0)
BASE = (_GX, _GY, 1, _GX * _GY % P)


def _compress(point):
    zinv = pow(point[2], P - 2, P)
    x, y = point[0] * zinv % P, point[1] * zinv % P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def is_curve_point(raw):
    y = int.from_bytes(raw, "little")
    return _recover_x(y & ((1 << 255) - 1), y >> 255) is not None


def public_of_seed(seed):
    digest = hashlib.sha512(seed).digest()
    scalar = int.from_bytes(digest[:32], "little")
    scalar &= (1 << 254) - 8
    scalar |= 1 << 254
    return _compress(_mul(scalar, BASE))


def parse_key_set(name, text):
    """kid -> raw public key, as urr_tokens::keys::KeySet::parse (and check_points) read it."""
    keys = {}
    for index, entry in enumerate(e.strip() for e in text.split(",") if e.strip()):
        kid, sep, encoded = entry.partition(":")
        kid = kid.strip()
        if not sep:
            raise ValueError("{}: entry {} is not kid:base64(raw public key)".format(name, index))
        if not KID.match(kid):
            raise ValueError("{}: key id {!r} is not 1-64 of A-Z a-z 0-9 . _ -".format(name, kid))
        if kid in keys:
            raise ValueError("{}: key id {!r} is listed twice".format(name, kid))
        try:
            raw = base64.b64decode(encoded.strip(), validate=True)
        except ValueError:
            raw = b""
        if len(raw) != 32 or not is_curve_point(raw):
            raise ValueError("{}: entry {!r} is not base64 of a 32-byte Ed25519 public key".format(name, kid))
        keys[kid] = raw
    if not keys:
        raise ValueError("{}: no public keys".format(name))
    if len(keys) > MAX_PUBLIC_KEYS:
        raise ValueError("{}: more than {} keys".format(name, MAX_PUBLIC_KEYS))
    return keys


def seed_of_pem(name, text):
    """The 32-byte seed of an Ed25519 private key in PEM PKCS#8 (what ed25519-compact reads)."""
    lines = [line.strip() for line in text.strip().splitlines()]
    if len(lines) < 3 or lines[0] != "-----BEGIN PRIVATE KEY-----" or lines[-1] != "-----END PRIVATE KEY-----":
        raise ValueError("{}: not a PEM PKCS#8 private key (-----BEGIN PRIVATE KEY-----)".format(name))
    try:
        der = base64.b64decode("".join(lines[1:-1]), validate=True)
    except ValueError:
        der = b""
    if len(der) != len(PKCS8_ED25519_PREFIX) + 32 or not der.startswith(PKCS8_ED25519_PREFIX):
        raise ValueError("{}: not an Ed25519 private key in PKCS#8".format(name))
    return der[len(PKCS8_ED25519_PREFIX):]


def check_signing(values, key, kid, public):
    keys = parse_key_set(public, values[public])
    signing_kid = values[kid].strip()
    if signing_kid not in keys:
        raise ValueError("{} {!r} is not listed in {}".format(kid, signing_kid, public))
    if public_of_seed(seed_of_pem(key, values[key])) != keys[signing_kid]:
        raise ValueError("{} is not the private half of the {!r} entry of {}".format(key, signing_kid, public))


def check_pairs(name, text, bounds, allow_zero=()):
    """`key=value` pairs, comma-separated, each key known and each value within its bounds."""
    for entry in (e.strip() for e in text.split(",") if e.strip()):
        key, sep, value = entry.partition("=")
        key = key.strip()
        if not sep or not value.strip().isdigit():
            raise ValueError("{}: {!r} is not name=whole number".format(name, entry))
        if key not in bounds:
            raise ValueError("{}: unknown setting {!r}".format(name, key))
        number = int(value)
        if number > bounds[key] or (number == 0 and key not in allow_zero):
            raise ValueError("{}: {} is out of range".format(name, key))


def check_number(name, text, low, high, empty_ok=True):
    text = text.strip()
    if text == "" and empty_ok:
        return
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError("{}: must be a whole number from {} to {}".format(name, low, high))


def check_origin(name, text):
    """scheme://host[:port], nothing after: what allowed_outbound_hosts and CORS compare with."""
    match = re.match(r"^(https?)://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?/?$", text.strip())
    if not match:
        raise ValueError("{}: {!r} is not scheme://host[:port] with nothing after".format(name, text))


def check_false(name, text):
    """A deployment never runs in development mode (it admits the mock provider's public keys)."""
    if text.strip().lower() not in ("", "false"):
        raise ValueError("{}: must be false in a deployment".format(name))


def check_host_port(name, text):
    if not re.match(r"^[A-Za-z0-9.-]+:[0-9]{1,5}$", text.strip()):
        raise ValueError("{}: {!r} is not host:port (Spin knows no default port for rediss)".format(name, text))


# Bounds: urr_ratelimit::MAX_PER_MINUTE; urr_queue's MAX_THRESHOLD, MAX_RATE, MAX_DURATION_SECS,
# MAX_PRESALE_POOL; urr_booking's MAX_CONFIGURED_CAP and MAX_TTL_SECS; urr_auth's MAX_GRACE_MS.
DAY_SECS = 24 * 60 * 60
CHECKS = {
    "rate_limits": lambda v: check_pairs(
        "rate_limits", v, {"auth": 60000, "queue": 60000, "booking": 60000, "default": 60000}
    ),
    "queue_settings": lambda v: check_pairs(
        "queue_settings",
        v,
        {
            "threshold": 1000000, "rate": 100000, "slot_secs": DAY_SECS, "slot_max_secs": DAY_SECS,
            "waiter_timeout_secs": DAY_SECS, "open_lead_secs": DAY_SECS, "presale_pool": 1000000,
        },
        allow_zero=("open_lead_secs", "presale_pool"),
    ),
    "hold_limits": lambda v: check_pairs("hold_limits", v, {"seats": 1000000, "per_minute": 1000000}),
    "purchase_limits": lambda v: check_pairs("purchase_limits", v, {"seats": 1000000, "standing": 1000000}),
    "hold_ttl_secs": lambda v: check_number("hold_ttl_secs", v, 1, 3600),
    "reservation_ttl_secs": lambda v: check_number("reservation_ttl_secs", v, 1, 3600),
    "refresh_grace_ms": lambda v: check_number("refresh_grace_ms", v, 0, 60000),
    "cancel_cutoff_secs": lambda v: check_number("cancel_cutoff_secs", v, 0, 30 * DAY_SECS),
    "provider_timeout_ms": lambda v: check_number("provider_timeout_ms", v, 100, 10000),
    "provider_base_url": lambda v: check_origin("provider_base_url", v),
    "google_jwks_origin": lambda v: check_origin("google_jwks_origin", v),
    "allowed_origins": lambda v: [check_origin("allowed_origins", o) for o in v.split(",") if o.strip()],
    "redis_host": lambda v: check_host_port("redis_host", v),
    "development_mode": lambda v: check_false("development_mode", v),
    "pg_host": lambda v: check_host_port("pg_host", v),
}


def check_values(values):
    """Every value the components would refuse, named at once (never the value itself)."""
    problems = []
    for name, check_value in CHECKS.items():
        if name in values:
            try:
                check_value(values[name])
            except ValueError as error:
                problems.append(str(error))
    for key, kid, public in (
        ("jwt_signing_key", "jwt_signing_kid", "jwt_public_keys"),
        ("queue_signing_key", "queue_signing_kid", "queue_public_keys"),
    ):
        try:
            if public in values:
                parse_key_set(public, values[public])
            if key in values or kid in values:
                missing = [n for n in (key, kid, public) if n not in values]
                if missing:
                    raise ValueError("{} needs {}".format(key if key in values else kid, ", ".join(missing)))
                check_signing(values, key, kid, public)
        except ValueError as error:
            problems.append(str(error))
    if problems:
        raise SystemExit("urr: Spin variables the components would refuse:\n  " + "\n  ".join(problems))


def write_private(path, lines):
    """Write atomically, readable by root only."""
    temporary = path + ".tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("".join(line + "\n" for line in lines))
    os.replace(temporary, path)


def main():
    with open(CONFIG_PATH) as handle:
        config = json.load(handle)

    values = resolve(config)
    check(config, values)
    check_values(values)

    app = config["app"]
    runtime = {
        "URR_REGION": config["region"],
        "URR_REGISTRY": app["registry"],
        "URR_APP_REFERENCE": app["reference"],
        "URR_LISTEN_PORT": str(app["listen_port"]),
    }
    if config.get("otel_exporter_otlp_endpoint"):
        runtime["OTEL_EXPORTER_OTLP_ENDPOINT"] = config["otel_exporter_otlp_endpoint"]
        runtime["OTEL_SERVICE_NAME"] = "urr-edge"

    os.makedirs(OUTPUT_DIR, mode=0o700, exist_ok=True)
    lines = ["{}={}".format(k, shlex.quote(v)) for k, v in sorted(runtime.items())]
    lines += [
        "SPIN_VARIABLE_{}={}".format(name.upper(), shlex.quote(value))
        for name, value in sorted(values.items())
    ]
    write_private(os.path.join(OUTPUT_DIR, "spin.env"), lines)
    print("urr: resolved {} Spin variables".format(len(values)), file=sys.stderr)


if __name__ == "__main__":
    main()
