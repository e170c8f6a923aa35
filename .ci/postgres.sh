# A throwaway PostgreSQL server for the tests, sourced by .ci/run (and usable by hand):
#
#   source .ci/postgres.sh && start_postgres && echo "$PEACEBOT_TEST_DATABASE_URL"
#   ...
#   stop_postgres
#
# Installs the Debian package if no server binaries are found, then runs `initdb` in a new
# temporary folder as an unprivileged user (postgres refuses to run as root), listening only
# on 127.0.0.1 on a free port, with durability off (a test server loses nothing it needs).

find_pg_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$found" ] && [ -x "$found/initdb" ]; then
    echo "$found"
  fi
}

start_postgres() {
  PG_BIN=$(find_pg_bin)
  if [ -z "$PG_BIN" ]; then
    echo "no PostgreSQL server here: installing it from Debian"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    PG_BIN=$(find_pg_bin)
  fi
  local user=postgres
  if [ "$(id -u)" != 0 ]; then
    user=$(id -un)
  elif ! id "$user" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
  fi
  PG_DIR=$(mktemp -d /tmp/peacebot-pg.XXXXXX)
  chown "$user" "$PG_DIR"
  chmod 700 "$PG_DIR"
  PG_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
  }
  as_pg "$PG_BIN/initdb" --pgdata="$PG_DIR/data" --username=postgres --auth=trust \
    --encoding=UTF8 --no-locale >"$PG_DIR/initdb.log"
  as_pg "$PG_BIN/pg_ctl" --pgdata="$PG_DIR/data" --log="$PG_DIR/server.log" --wait start \
    -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    >/dev/null
  as_pg "$PG_BIN/createdb" --host=127.0.0.1 --port="$PG_PORT" --username=postgres peacebot_test
  PG_USER=$user
  export PEACEBOT_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/peacebot_test"
  echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_DIR)"
}

stop_postgres() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    if [ "$(id -u)" = 0 ]; then
      runuser -u "$PG_USER" -- "$PG_BIN/pg_ctl" --pgdata="$PG_DIR/data" --mode=immediate stop >/dev/null 2>&1 || true
    else
      "$PG_BIN/pg_ctl" --pgdata="$PG_DIR/data" --mode=immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_DIR"
  fi
}
