#!/usr/bin/env bash
# The test command of lexigram-sql.
#
#   scripts/test.sh [CARGO TEST ARGS...]   e.g. scripts/test.sh -p lexigram-sql
#   scripts/test.sh --servers-only         start the servers, print their
#                                          `export ...` lines, wait for Ctrl-C
#
# Starts throwaway PostgreSQL and MariaDB servers on free ports of 127.0.0.1
# (installing the Debian packages first if they are missing), exports
#
#   LEX_TEST_POSTGRES_URL, LEX_TEST_MYSQL_URL            connection URLs
#   LEX_TEST_TLS_CA, LEX_TEST_TLS_WRONG_CA
#                       the CA that signed both servers' TLS certificate (made
#                       with openssl; it names `localhost` only), and a CA that
#                       signed nothing, for tests/tls.rs
#   LEX_TEST_POSTGRES_STOP / _START, LEX_TEST_MYSQL_STOP / _START
#                       shell commands (for `sh -c`) that stop / restart one
#                       server and return once it is down / ready again
#   LEX_TEST_REQUIRE_SERVERS=1
#   LEX_TEST_REPORT     a file the reliability tests append their figures to;
#                       printed as one table when the tests end
#   LEX_TEST_PG_PRIMARY_URL, LEX_TEST_PG_REPLICA_URLS, LEX_TEST_PG_MULTIHOST_URL,
#   LEX_TEST_PGBOUNCER_URL, LEX_TEST_MYSQL_PRIMARY_URL, LEX_TEST_MYSQL_REPLICA_URL,
#   LEX_TEST_TOPOLOGY_CTL, LEX_TEST_REQUIRE_TOPOLOGY=1
#                       the replication topology of scripts/topology.sh (a
#                       PostgreSQL primary with 2 streaming replicas, PgBouncer in
#                       transaction mode, a MariaDB primary with a GTID replica);
#                       LEX_TEST_TOPOLOGY=0 skips it (its tests then skip too)
#
# runs `cargo test --workspace --all-features "$@"` (then, with no arguments,
# the server fault tests alone with LEX_TEST_FAULTS=1) and always stops the
# servers and deletes their directory afterwards. Exits with cargo's status.
#
# LEX_TEST_CMD, if set, is run with `bash -c` (getting the arguments as "$@")
# instead of cargo test; LEX_TEST_SERVER_TIMEOUT bounds server waits (60 s).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DBS="$ROOT/scripts/db-servers.sh"
TOPO="$ROOT/scripts/topology.sh"

say() { printf 'test.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

servers_only=0
case ${1:-} in
--servers-only)
    servers_only=1
    shift
    ;;
-h | --help)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
esac

if ((!servers_only)) && [[ -z ${LEX_TEST_CMD:-} ]] && ! command -v cargo >/dev/null; then
    if [[ -x ${CARGO_HOME:-$HOME/.cargo}/bin/cargo ]]; then
        PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
        export PATH
    else
        die "cargo not found: install Rust (https://rustup.rs) or put cargo on PATH"
    fi
fi

# Short path (unix socket names are limited to ~100 bytes), and one the
# postgres/mysql users can traverse when we run as root.
base=/tmp
if [[ $(id -u) != 0 && -n ${TMPDIR:-} && ${#TMPDIR} -lt 60 ]]; then
    base=$TMPDIR
fi
WORK=$(mktemp -d "$base/lexigram-test.XXXXXX")
SLEEP_PID=""

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    [[ -n $SLEEP_PID ]] && kill "$SLEEP_PID" 2>/dev/null
    if [[ -d $WORK ]]; then
        if [[ -d $WORK/topology ]]; then
            "$TOPO" stop-all "$WORK/topology" || say "warning: could not stop the topology in $WORK"
        fi
        "$DBS" stop-all "$WORK" || say "warning: could not stop all servers in $WORK"
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

"$DBS" init "$WORK"
eval "$("$DBS" env "$WORK")"
export LEX_TEST_REQUIRE_SERVERS=1
if [[ ${LEX_TEST_TOPOLOGY:-1} != 0 ]]; then
    mkdir "$WORK/topology"
    "$TOPO" init "$WORK/topology"
    eval "$("$TOPO" env "$WORK/topology")"
    export LEX_TEST_REQUIRE_TOPOLOGY=1
fi
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"
# The reliability group's figures (tests/common: report), printed as one table at the end.
export LEX_TEST_REPORT="$WORK/reliability.txt"

if ((servers_only)); then
    "$DBS" env "$WORK"
    echo "export LEX_TEST_REQUIRE_SERVERS=1"
    if [[ -d $WORK/topology ]]; then
        "$TOPO" env "$WORK/topology"
        echo "export LEX_TEST_REQUIRE_TOPOLOGY=1"
    fi
    say "servers are running; press Ctrl-C (or send SIGTERM to $$) to stop them"
    while :; do
        sleep 3600 &
        SLEEP_PID=$!
        wait "$SLEEP_PID" || true
    done
fi

cd "$ROOT"
set +e
if [[ -n ${LEX_TEST_CMD:-} ]]; then
    bash -c "$LEX_TEST_CMD" lex-test "$@"
    rc=$?
else
    cargo test --workspace --all-features "$@"
    rc=$?
    # Fault tests stop and restart the shared servers, so they run alone, after the rest.
    if ((rc == 0)) && (($# == 0)); then
        say "fault pass: tests that stop and restart the servers (LEX_TEST_FAULTS=1, serial)"
        LEX_TEST_FAULTS=1 cargo test -p lexigram-sql --all-features --test provider_faults -- --test-threads=1
        rc=$?
        # Last: stops the topology's PostgreSQL primary and promotes a replica.
        if ((rc == 0)) && [[ -n ${LEX_TEST_TOPOLOGY_CTL:-} ]]; then
            say "fault pass: failover of the topology's PostgreSQL primary"
            LEX_TEST_FAULTS=1 cargo test -p lexigram-sql --all-features --test failover -- --nocapture
            rc=$?
        fi
    fi
fi
set -e
if [[ -s $LEX_TEST_REPORT ]]; then
    say "reliability figures (storm, outage, restart under writes, first use, runtime fairness):"
    sort "$LEX_TEST_REPORT" >&2
fi
exit "$rc"
