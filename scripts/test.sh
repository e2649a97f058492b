#!/usr/bin/env bash
# The project's test command (the one the README gives).
#
# Installs what the tests need when it is missing -- the PostgreSQL server, for
# the tests that compare SQLite and PostgreSQL -- then runs every test and
# compiles the benchmarks. With CI=true a missing server is an error, never a
# skip: the PostgreSQL test harness panics rather than pass silently.
set -euo pipefail
cd "$(dirname "$0")/.."

find_initdb() {
    if command -v initdb >/dev/null 2>&1; then
        command -v initdb
        return
    fi
    local candidate
    for candidate in /usr/lib/postgresql/*/bin/initdb; do
        if [ -x "$candidate" ]; then
            echo "$candidate"
            return
        fi
    done
}

if [ -z "$(find_initdb)" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing the PostgreSQL server (Debian package postgresql)..." >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        apt-get install -y -q --no-install-recommends postgresql
    else
        echo "note: no PostgreSQL server found (initdb); install the Debian package" \
             "postgresql to run the PostgreSQL tests" >&2
    fi
fi

if [ "${CI:-}" = true ] && [ -z "$(find_initdb)" ]; then
    echo "error: PostgreSQL server required under CI, and initdb is still missing" >&2
    exit 1
fi

# The Spark cluster test (tests/it/spark.rs) runs under CI=true, or with
# SEGQL_SPARK=1: Java 17, pyspark (in .venv-spark) and protoc are installed
# first when missing, and a failure to install them fails the run. Then every
# test is built with the `spark` feature, so that the cluster test also runs
# `segql run --db sc://...` through segql's own Spark Connect client.
features=()
if [ "${CI:-}" = true ] || [ "${SEGQL_SPARK:-}" = 1 ]; then
    bash scripts/spark/cluster.sh prepare
    features=(--features spark)
fi

# Unit, integration and CLI tests, and the benchmarks run as tests: without
# the --bench argument of `cargo bench`, each bench builds a tiny data set
# (whatever SEGQL_BENCH_* say), checks its results and times nothing; see
# benches/README.md. Every test binary runs even when one fails, so a run
# reports all failures at once.
status=0
cargo test --no-fail-fast --all-targets "${features[@]}" || status=$?
# --all-targets leaves out documentation examples.
cargo test --no-fail-fast --doc "${features[@]}" || status=$?
exit "$status"
