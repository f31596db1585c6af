#!/bin/bash
# ExecStart of urr-spin.service. As root: load the resolved variables from the root-only file,
# then drop to the unprivileged urr user (the values travel in the environment, never in a file
# urr can read). As urr: log in to ECR and run the app straight from its OCI reference.
set -euo pipefail

if [[ "$(id -u)" == 0 ]]; then
  set -a
  # shellcheck disable=SC1091
  . /run/urr/spin.env
  set +a
  export HOME=/var/lib/urr XDG_CACHE_HOME=/var/lib/urr/cache XDG_CONFIG_HOME=/var/lib/urr/config XDG_DATA_HOME=/var/lib/urr/data
  exec setpriv --reuid=urr --regid=urr --init-groups -- "$0" "$@"
fi

aws ecr get-login-password --region "$URR_REGION" |
  spin registry login --username AWS --password-stdin "$URR_REGISTRY"

# A fresh instance for every request (Spin would reuse a WASI 0.3 instance for up to 128 requests,
# 16 at once) and a request timeout equal to urr-edge's default deadline: the settings the
# conformance run tests with (PRODUCTION_FLAGS in host/src/spin_cli.rs; infra/check.sh compares them).
exec spin up \
  --from "$URR_APP_REFERENCE" \
  --listen "0.0.0.0:${URR_LISTEN_PORT}" \
  --tls-cert /etc/urr/tls/target.crt \
  --tls-key /etc/urr/tls/target.key \
  --log-dir /var/log/urr \
  --max-instance-reuse-count 1 \
  --max-instance-concurrent-reuse-count 1 \
  --request-timeout 15s
