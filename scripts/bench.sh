#!/usr/bin/env bash
# Runs the criterion benches against real servers: lexigram-sql next to the raw drivers
# (rusqlite, tokio-postgres, mysql_async) in one run.
#
#   scripts/bench.sh [CRITERION ARGS...]     e.g. scripts/bench.sh -- sqlite
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LEX_TEST_CMD='cargo bench -p lexigram-benches "$@"' exec "$ROOT/scripts/test.sh" "$@"
