#!/usr/bin/env bash
# Runs the criterion benches against real servers: lexigram-sql next to the raw drivers
# (rusqlite, tokio-postgres, mysql_async) in one run.
#
#   scripts/bench.sh [CRITERION ARGS...]     e.g. scripts/bench.sh -- sqlite
#   scripts/bench.sh --peers [--reps N] [--backends sqlite,postgres,mysql]
#                                            the peer suite (benches/peers: Diesel, diesel-async,
#                                            sqlx, SeaORM, the raw drivers); writes BENCHMARKS.md
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ ${1:-} == --peers ]]; then
    shift
    LEX_TEST_TOPOLOGY=0 LEX_TEST_CMD='"$LEX_PEERS" "$@"' LEX_PEERS="$ROOT/scripts/peers.sh" \
        exec "$ROOT/scripts/test.sh" "$@"
fi
LEX_TEST_CMD='cargo bench -p lexigram-benches "$@"' exec "$ROOT/scripts/test.sh" "$@"
