#!/usr/bin/env bash
# The Spark figures of benches/README.md: segql's benchmark segments on the
# two-worker Spark cluster of cluster.sh and on a throwaway PostgreSQL
# server, same data, medians of SEGQL_BENCH_RUNS (5) after a warm-up.
#
#   scripts/spark/bench.sh DB [SEGQL]
#
# DB is a SQLite demo database (`segql demo --out DB --contacts 1000000`);
# SEGQL the segql binary (target/release/segql). Writes its Parquet export
# and the PostgreSQL cluster under target/spark-bench, starts the Spark
# cluster (cluster.sh start) unless SEGQL_SPARK_RUNNING=1, and stops what it
# started. Run as root (PostgreSQL runs as the postgres user) or as a user
# that can run initdb.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DB=$(realpath "${1:?usage: bench.sh DB [SEGQL]}")
SEGQL=$(realpath "${2:-$ROOT/target/release/segql}")
WORK=${SEGQL_SPARK_BENCH_DIR:-$ROOT/target/spark-bench}
PG_PORT=${SEGQL_BENCH_PG_PORT:-55439}
RUNS=${SEGQL_BENCH_RUNS:-5}
mkdir -p "$WORK"

pg_bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)")
[ -x "$pg_bin/initdb" ] || pg_bin=$(dirname "$(command -v initdb)")
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_all() {
    as_pg "$pg_bin/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null 2>&1 || true
    if [ "${SEGQL_SPARK_RUNNING:-}" != 1 ]; then
        bash "$ROOT/scripts/spark/cluster.sh" stop || true
    fi
}
trap stop_all EXIT

rm -rf "$WORK/pg"
mkdir -p "$WORK/pg"
[ "$(id -u)" = 0 ] && chown postgres "$WORK/pg"
as_pg "$pg_bin/initdb" -D "$WORK/pg" -A trust -U postgres >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$WORK/pg" -o "-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1" \
    -l "$WORK/pg.log" -w start >/dev/null
URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"

echo "bench: exporting $DB" >&2
"$SEGQL" export --db "$DB" --out "$WORK/lake" --quiet
if [ "${SEGQL_SPARK_RUNNING:-}" != 1 ]; then
    bash "$ROOT/scripts/spark/cluster.sh" start
fi

"$ROOT/.venv-spark/bin/python" "$ROOT/scripts/spark/bench.py" --segql "$SEGQL" --db "$DB" \
    --lake "$WORK/lake" --remote "sc://127.0.0.1:${SEGQL_SPARK_CONNECT_PORT:-15002}" \
    --pg "$URL" --load-pg --runs "$RUNS"
