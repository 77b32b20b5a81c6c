#!/usr/bin/env bash
# Every feature of every crate compiles on its own, and a lexigram-sql build with no
# backend feature fails with the compile_error! that names them.
#
#   scripts/check-features.sh      needs cargo-hack: cargo install cargo-hack --locked
#
# lexigram-sql: every combination of its features (cargo hack --feature-powerset), skipping
# the sets with no backend (they are the compile_error! case checked last). The other
# crates: each of their features alone, and none (--each-feature).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! cargo hack --version >/dev/null 2>&1; then
    echo "check-features: cargo-hack is not installed: cargo install cargo-hack --locked" >&2
    exit 1
fi

cargo hack check -p lexigram-sql --feature-powerset --at-least-one-of sqlite,postgres,mysql
cargo hack check --workspace --exclude lexigram-sql --exclude lexigram-benches --each-feature

out=$(cargo check -p lexigram-sql --no-default-features --features lexigram --message-format short 2>&1) && {
    echo "check-features: lexigram-sql built with no backend feature; expected a compile_error!" >&2
    exit 1
}
if [[ $out != *"lexigram-sql needs at least one backend"* ]]; then
    printf '%s\n' "$out" >&2
    echo "check-features: the no-backend build failed without the compile_error! message" >&2
    exit 1
fi
echo "check-features: no backend -> compile_error! as expected" >&2
