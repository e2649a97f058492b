#!/usr/bin/env bash
# Seed the fuzz corpora from the test queries and libraries, then run every
# cargo-fuzz target for SECONDS (default 60) and report executions per target.
#
#   scripts/fuzz.sh [SECONDS]
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# TARGETS="parse_check library" scripts/fuzz.sh 30 runs a subset.
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
fuzz="$root/fuzz"
targets="${TARGETS:-parse_check compile_sql eval_memory library}"
max_len="${MAX_LEN:-4096}"

seed() {
    local target="$1"; shift
    mkdir -p "$fuzz/corpus/$target"
    local f
    for f in "$@"; do
        [ -f "$f" ] && cp "$f" "$fuzz/corpus/$target/seed-$(basename "$(dirname "$f")")-$(basename "$f")"
    done
    return 0
}

queries=("$root"/tests/queries/valid/*.segql "$root"/tests/queries/aggregates/*.segql
    "$root"/tests/queries/invalid/*.segql)
libraries=("$root"/tests/libraries/*.segql)
seed parse_check "${queries[@]}"
seed compile_sql "${queries[@]}"
seed eval_memory "${queries[@]}"
seed library "${libraries[@]}" "${queries[@]}"

cd "$fuzz"
cargo +nightly fuzz build
mkdir -p "$fuzz/artifacts"

status=0
summary=""
for target in $targets; do
    log="$fuzz/artifacts/$target.log"
    echo "== $target (${seconds}s)"
    if cargo +nightly fuzz run "$target" -- \
        -max_total_time="$seconds" -max_len="$max_len" \
        -dict="$fuzz/segql.dict" -print_final_stats=1 >"$log" 2>&1; then
        result="ok"
    else
        result="FAILED (see $log and fuzz/artifacts/$target/)"
        status=1
    fi
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)"
    if [ -z "$execs" ]; then
        execs="$(grep -Eo '^#[0-9]+' "$log" | tail -1 | tr -d '#')"
    fi
    line="$target: ${execs:-?} executions, $result"
    echo "$line"
    summary+="$line"$'\n'
done

echo
echo "== summary"
printf '%s' "$summary"
exit "$status"
