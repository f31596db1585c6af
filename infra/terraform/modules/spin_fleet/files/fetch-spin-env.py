#!/usr/bin/env python3
"""Resolve URR Edge's Spin variables when urr-spin.service starts.

Runs as root (ExecStartPre). Reads the non-secret wiring from /etc/urr/fleet.json, fetches
plain configuration from SSM Parameter Store and secrets from Secrets Manager with the instance
role, and writes them as SPIN_VARIABLE_<NAME> assignments to a root-only file on tmpfs
(/run/urr), which the start script loads. No value is ever in user data or on disk.

Composed variables:
  redis_address    rediss://:<token>@<primary endpoint>:<port>
  pg_address_<x>   postgres://<user>:<password>@<RDS Proxy>:<port>/<db>?sslmode=require

Exits non-zero if any expected variable is missing, so a misconfigured instance never turns
healthy and an instance refresh rolls back. Python 3.9 compatible (Amazon Linux 2023).
"""

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
