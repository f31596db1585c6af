#!/usr/bin/env python3
"""Idempotent bootstrap of URR Edge's Postgres component roles for the migration task.

Creates each role in URR_ROLES if it is missing and (re)sets its password from its Secrets
Manager secret, injected by ECS as ROLE_CREDENTIALS_<ROLE>. Passwords are sent as SCRAM-SHA-256
verifiers computed here, so no clear-text password reaches the server, its logs (log_statement =
ddl) or pg_stat_statements. Table grants are not made here: they live in the migrations, which
run right after this, so the roles must exist first.

With --print-master-url it prints the master connection URL for sqlx instead.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import subprocess
import sys
import urllib.parse

ROLE_NAME = re.compile(r"^urr_[a-z_]+$")
SCRAM_ITERATIONS = 4096


def scram_sha256_verifier(password, salt=None, iterations=SCRAM_ITERATIONS):
    """The verifier Postgres stores for password_encryption = scram-sha-256 (RFC 5802/7677)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda raw: base64.b64encode(raw).decode("ascii")
    return "SCRAM-SHA-256${}:{}${}:{}".format(iterations, b64(salt), b64(stored_key), b64(server_key))


def credentials(variable, environ=os.environ):
    value = json.loads(environ[variable])
    return value["username"], value["password"]


def role_statements(role, password, database):
    """SQL for one role. Role names are checked against ROLE_NAME, so quoting them is plain."""
    if not ROLE_NAME.match(role):
        raise ValueError("unexpected role name: {!r}".format(role))
    verifier = scram_sha256_verifier(password)
    return [
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{0}') "
        "THEN CREATE ROLE {0} LOGIN; END IF; END $$;".format(role),
        "ALTER ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
        "PASSWORD '{}';".format(role, verifier),
        'GRANT CONNECT ON DATABASE "{}" TO {};'.format(database.replace('"', '""'), role),
    ]


def bootstrap_sql(roles, database, environ=os.environ):
    statements = []
    for role in roles:
        username, password = credentials("ROLE_CREDENTIALS_" + role.upper(), environ)
        if username != role:
            raise ValueError("secret of {} names user {}".format(role, username))
        statements += role_statements(role, password, database)
    return "\n".join(statements) + "\n"


def master_url():
    username, password = credentials("MASTER_CREDENTIALS")
    return "postgres://{}:{}@{}:{}/{}?sslmode={}&sslrootcert={}".format(
        urllib.parse.quote(username, safe=""),
        urllib.parse.quote(password, safe=""),
        os.environ["PGHOST"],
        os.environ.get("PGPORT", "5432"),
        os.environ["PGDATABASE"],
        os.environ.get("PGSSLMODE", "verify-full"),
        urllib.parse.quote(os.environ.get("PGSSLROOTCERT", ""), safe="/"),
    )


def main(argv):
    if argv[1:] == ["--print-master-url"]:
        print(master_url())
        return 0
    roles = [r for r in os.environ["URR_ROLES"].split(",") if r]
    sql = bootstrap_sql(roles, os.environ["PGDATABASE"])
    username, password = credentials("MASTER_CREDENTIALS")
    env = dict(os.environ, PGUSER=username, PGPASSWORD=password)
    command = ["psql", "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1"]
    subprocess.run(command, input=sql, text=True, env=env, check=True)
    print("urr-migrate: {} roles ready".format(len(roles)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
