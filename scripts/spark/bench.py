#!/usr/bin/env python3
"""Times segql's benchmark segments on a Spark cluster (through Spark
Connect) and on PostgreSQL, on the same demo data: medians of N runs after
one warm-up. A report only; scripts/spark/bench.sh drives it (cluster,
PostgreSQL server, export), see benches/README.md.

Spark: each segment is compiled with `segql compile --dialect spark --format
json` and run as a user would, `spark.sql(sql, args).collect()`, over the
Parquet files of `segql export` loaded as temporary views; the time is the
wall time of that call (planning, the job on the executors, the ids back).

PostgreSQL: `segql run --db URL --format ids --timing`, its "evaluate" time
(the query and its ids back). With --load-pg, the SQLite file is first
copied in, in the PostgreSQL layout of SPEC 3.1 (uuid, text COLLATE "C",
bigint, double precision, boolean, date, timestamptz), keys as primary keys,
foreign keys indexed, then VACUUM ANALYZE, as benches/sql_vs_handwritten.rs
does with segql::demo::copy_sqlite_to_postgres.

Both must select the same number of records for each segment.
"""

import argparse
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import time

# The first five segments of benches/sql_vs_handwritten.rs.
SEGMENTS = [
    ("spec_example", 'contact where role = "decision maker" and has lead(topic = "Contoso Ltd Conference")'),
    ("contact_fields", 'contact where country = "France" and consent_level >= "Marketing" and not do_not_email'),
    ("recent_opens", 'contact where has at least 3 interaction(type = "Email Opened" and occurred_on >= now - 30d)'),
    ("nested", 'contact where has lead(has account(industry = "Retail"))'),
    (
        "negations",
        'contact where city != "Paris" and role not in ["Employee", "Influencer"] and not has '
        'interaction(type = "Email Clicked") and email is not null and not email ends with "@example.com"',
    ),
]

PG_TYPES = {
    "uuid": "uuid",
    "text": 'text COLLATE "C"',
    "integer": "bigint",
    "choice": "bigint",
    "decimal": "double precision",
    "bool": "boolean",
    "date": "date",
    "datetime": "timestamptz",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segql", required=True)
    parser.add_argument("--db", required=True, help="the SQLite demo database")
    parser.add_argument("--lake", help="its `segql export` directory (Spark)")
    parser.add_argument("--remote", help="a Spark Connect URL (Spark)")
    parser.add_argument("--pg", help="a postgresql:// URL (PostgreSQL)")
    parser.add_argument("--load-pg", action="store_true", help="copy --db into --pg first")
    parser.add_argument("--now", default="2026-01-15T12:00:00Z")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="print Spark's EXPLAIN FORMATTED of each segment")
    args = parser.parse_args()

    spark_times = {}
    pg_times = {}
    if args.pg:
        if args.load_pg:
            load_pg(args.segql, args.db, args.pg)
        for name, segment in SEGMENTS:
            pg_times[name] = time_pg(args, segment)
            print(f"postgres {name}: {pg_times[name][1]} ids, median {pg_times[name][0]:.0f} ms", flush=True)
    if args.remote:
        spark = spark_session(args.remote, args.lake)
        try:
            for name, segment in SEGMENTS:
                spark_times[name] = time_spark(spark, args, segment)
                print(f"spark {name}: {spark_times[name][1]} ids, median {spark_times[name][0]:.0f} ms", flush=True)
        finally:
            spark.stop()

    print()
    print(f"| segment | ids | Spark (2 workers) ms | PostgreSQL ms |")
    print("| --- | ---: | ---: | ---: |")
    failures = 0
    for name, _ in SEGMENTS:
        s = spark_times.get(name)
        p = pg_times.get(name)
        if s and p and s[1] != p[1]:
            failures += 1
            print(f"FAIL {name}: Spark selects {s[1]} records, PostgreSQL {p[1]}")
        ids = (s or p)[1]
        fmt = lambda t: f"{t[0]:,.0f}" if t else "-"
        print(f"| {name} | {ids:,} | {fmt(s)} | {fmt(p)} |")
    return 1 if failures else 0


def segql(binary, *arguments):
    done = subprocess.run([binary, *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"segql {' '.join(arguments[:2])}: {done.stderr.strip()}")
    return done


def spark_session(remote, lake):
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.remote(remote).appName("segql-bench").getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.ansi.enabled", "true")
    for table in sorted(os.listdir(lake)):
        spark.read.parquet(os.path.join(lake, table)).createOrReplaceTempView(table)
    return spark


def time_spark(spark, args, segment):
    compiled = json.loads(
        segql(args.segql, "compile", "--dialect", "spark", "--format", "json", "--now", args.now, segment).stdout
    )
    params = {f"p{i + 1}": v for i, v in enumerate(compiled["params"])}
    if args.explain:
        print(spark.sql("EXPLAIN FORMATTED " + compiled["sql"], args=params).collect()[0][0])
    times = []
    ids = None
    for run in range(args.runs + 1):
        started = time.perf_counter()
        rows = spark.sql(compiled["sql"], args=params).collect()
        elapsed = (time.perf_counter() - started) * 1000
        ids = len(rows)
        if run > 0:  # the first is the warm-up
            times.append(elapsed)
    return statistics.median(times), ids


def time_pg(args, segment):
    times = []
    ids = None
    for run in range(args.runs + 1):
        done = segql(args.segql, "run", "--db", args.pg, "--now", args.now, "--format", "ids", "--timing", segment)
        match = re.search(r"timing: evaluate ([0-9.]+) ms", done.stderr)
        if not match:
            raise SystemExit(f"no timing in: {done.stderr}")
        ids = len(done.stdout.split())
        if run > 0:
            times.append(float(match.group(1)))
    return statistics.median(times), ids


def load_pg(binary, db, url):
    """Copies the SQLite file `db` into the PostgreSQL database `url` with psql."""
    entities = json.loads(segql(binary, "schema", "--format", "json").stdout)["entities"]
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    started = time.perf_counter()
    for entity in entities:
        full = json.loads(segql(binary, "schema", entity["name"], "--format", "json").stdout)
        table, key = full["table"], full["key"]
        fields = full["fields"]
        columns = ", ".join(
            f'"{f["name"]}" {PG_TYPES[f["type"]]}' + (" PRIMARY KEY" if f["name"] == key else "") for f in fields
        )
        psql(url, f'DROP TABLE IF EXISTS "{table}"; CREATE TABLE "{table}" ({columns})')
        names = ", ".join(f'"{f["name"]}"' for f in fields)
        copy = subprocess.Popen(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", f'COPY "{table}" ({names}) FROM STDIN'],
            stdin=subprocess.PIPE,
            text=True,
        )
        rows = con.execute(f'SELECT {names} FROM "{table}"')
        for row in rows:
            copy.stdin.write("\t".join(pg_text(v) for v in row) + "\n")
        copy.stdin.close()
        if copy.wait() != 0:
            raise SystemExit(f"COPY {table} failed")
        for f in fields:
            if f["type"] == "uuid" and f["name"] != key:
                psql(url, f'CREATE INDEX ON "{table}" ("{f["name"]}")')
        print(f"copied {table} to PostgreSQL ({time.perf_counter() - started:.0f} s)", flush=True)
    psql(url, "VACUUM ANALYZE")


def pg_text(value):
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return repr(value) if isinstance(value, float) else str(value)


def psql(url, sql):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True)


if __name__ == "__main__":
    sys.exit(main())
