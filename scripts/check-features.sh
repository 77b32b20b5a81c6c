#!/usr/bin/env bash
# Every feature of every crate compiles on its own, without warnings, and a lexigram-sql build with no
# backend feature fails with the compile_error! that names them.
#
#   scripts/check-features.sh      installs cargo-hack first if missing (cargo install --locked)
#
# lexigram-sql: each backend feature alone, without the lexigram integration (cargo hack
# --feature-powerset --depth 1, skipping the set with no backend: that is the
# compile_error! case checked last). The CLI: its defaults, none, and each feature alone
# (--each-feature). The all-features build is clippy's (.ci/run), the default one the
# tests'. LEX_FEATURES_FULL=1: every combination of lexigram-sql's features instead (18
# builds; about 25 min on 2 busy cores).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! cargo hack --version >/dev/null 2>&1; then
    echo "check-features: installing cargo-hack (cargo install cargo-hack --locked) ..." >&2
    cargo install cargo-hack --locked --quiet
fi

depth=(--depth 1 --exclude-features default)
[[ ${LEX_FEATURES_FULL:-0} == 1 ]] && depth=()
# clippy rather than check: a feature set that leaves code unused must fail too.
cargo hack clippy -p lexigram-sql --feature-powerset "${depth[@]}" --at-least-one-of sqlite,postgres,mysql -- -D warnings
cargo hack clippy -p lexigram-cli --each-feature --exclude-all-features -- -D warnings

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
