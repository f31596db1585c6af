# Sourced by scripts/up and scripts/test: makes sure this machine has what URR Edge needs, and
# exports where Redis and PostgreSQL are. Installs Debian packages when missing; uses the local
# Redis/PostgreSQL when they answer, else starts private ones under .urr/ on free loopback ports.
#
# Exports: URR_REDIS_URL, URR_DATABASE_URL (an admin URL on the `postgres` database).

urr_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
urr_state="$urr_root/.urr"
mkdir -p "$urr_state"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

apt_updated=0
apt_install() {
  command -v apt-get >/dev/null || die "cannot install $* (no apt-get): install it by hand and rerun"
  if [ "$apt_updated" = 0 ]; then
    as_root apt-get update -qq >/dev/null || die "apt-get update failed: cannot install $*"
    apt_updated=1
  fi
  say "installing $* (Debian packages)"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null \
    || die "apt-get install $* failed: install it by hand and rerun"
}

ensure_rust() {
  command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup (https://rustup.rs), then rerun"
  # rust-toolchain.toml pins 1.95.0 with wasm32-wasip2; rustup installs both on first use.
  if command -v rustup >/dev/null; then
    (cd "$urr_root" && rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2) \
      || (cd "$urr_root" && say "adding the wasm32-wasip2 target" && rustup target add wasm32-wasip2 >/dev/null) \
      || die "cannot add the wasm32-wasip2 target (rustup target add wasm32-wasip2)"
  fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || shuf -i 20000-60000 -n 1; }

pg_bin() {
  local b
  for b in /usr/lib/postgresql/*/bin; do [ -x "$b/initdb" ] && { echo "$b"; return 0; }; done
  return 1
}

ensure_redis() {
  command -v redis-server >/dev/null || apt_install redis-server
  command -v redis-cli >/dev/null || apt_install redis-tools
  if [ -n "${URR_REDIS_URL:-}" ]; then return 0; fi
  if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
    URR_REDIS_URL="redis://127.0.0.1:6379"
  else
    local port_file="$urr_state/redis/port" port
    if [ -f "$port_file" ] && redis-cli -h 127.0.0.1 -p "$(cat "$port_file")" ping 2>/dev/null | grep -q PONG; then
      port=$(cat "$port_file")
    else
      port=$(free_port); mkdir -p "$urr_state/redis"
      say "no Redis on 127.0.0.1:6379: starting a private one on port $port (data in .urr/redis)"
      redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$urr_state/redis" \
        --daemonize yes --pidfile "$urr_state/redis/redis.pid" --logfile "$urr_state/redis/redis.log" \
        || die "redis-server did not start (see .urr/redis/redis.log)"
      echo "$port" > "$port_file"
      for _ in $(seq 50); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
    fi
    URR_REDIS_URL="redis://127.0.0.1:$port"
  fi
  export URR_REDIS_URL
}

pg_answers() { psql "$1" -Atqc 'select 1' >/dev/null 2>&1; }

ensure_postgres() {
  command -v psql >/dev/null && pg_bin >/dev/null || apt_install postgresql postgresql-client
  if [ -n "${URR_DATABASE_URL:-}" ]; then return 0; fi
  if pg_answers "postgres://postgres@127.0.0.1:5432/postgres"; then
    URR_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
  else
    # A private cluster with trust auth on loopback, run as the `postgres` user (never root).
    local dir="$urr_state/pg" bin port
    bin=$(pg_bin) || die "PostgreSQL server binaries not found after install"
    id postgres >/dev/null 2>&1 || as_root useradd --system --home "$dir" postgres || die "cannot create the postgres user"
    if [ -f "$dir/port" ] && pg_answers "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres"; then
      port=$(cat "$dir/port")
    else
      port=$(free_port)
      say "no usable PostgreSQL on 127.0.0.1:5432: starting a private one on port $port (data in .urr/pg)"
      mkdir -p "$dir"; chown postgres "$dir" 2>/dev/null || true; chmod 755 "$urr_state"
      if [ ! -f "$dir/data/PG_VERSION" ]; then
        runuser -u postgres -- "$bin/initdb" -D "$dir/data" -U postgres -A trust >/dev/null \
          || die "initdb failed"
      fi
      runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null \
        || die "postgres did not start (see .urr/pg/pg.log)"
      echo "$port" > "$dir/port"
    fi
    URR_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  fi
  export URR_DATABASE_URL
}

ensure_packages() {
  ensure_rust
  command -v python3 >/dev/null || apt_install python3
  command -v redis-server >/dev/null || apt_install redis-server
  command -v redis-cli >/dev/null || apt_install redis-tools
  { command -v psql >/dev/null && pg_bin >/dev/null; } || apt_install postgresql postgresql-client
}

ensure_all() {
  ensure_packages
  ensure_redis
  ensure_postgres
  say "Redis: $URR_REDIS_URL   PostgreSQL: $URR_DATABASE_URL"
}
