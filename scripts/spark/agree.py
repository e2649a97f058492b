#!/usr/bin/env python3
"""Runs segql's Spark SQL on Spark 4 and checks that it selects the same ids
as `segql run` on SQLite: in local mode, or with --remote on a cluster
through Spark Connect (scripts/spark/cluster.sh starts one).

What it does, in order:
  1. `segql demo` writes a small SQLite database in the default CRM layout;
     a few records are added whose values test SPEC 2.3 where Spark's own
     functions differ (a capital É, `%` and `_` in text, decimals whose sum
     a plain floating-point SUM loses).
  2. `segql export` writes every table as Parquet (docs/export.md), and each
     is loaded into the Spark session as a temporary view: the storage types
     of the Spark dialect (uuids STRING, choices INT, decimals DOUBLE, bools
     BOOLEAN, dates DATE, date-times TIMESTAMP) come from the files.
  3. Every query fixture of tests/queries/valid and tests/queries/aggregates
     on the built-in schema (plus the queries in EXTRA_QUERIES) is compiled
     with `segql compile --dialect spark --format json` and run with
     `spark.sql(sql, args)`, binding params[0] as "p1" and so on; its ids and
     its count must equal `segql run --format ids` on the SQLite file.
  4. An integer sum out of the i64 range must fail on both.
  5. Every query case of tests/it/semantics/cases.toml (SPEC 2.3 on small
     hand-made data: NULLs, non-ASCII text, `%`/`_`/`\\`, aggregates) must
     give the ids, or the error, it states.
  6. Spark's behaviour that the dialect relies on is checked directly
     (SPELLINGS): code-point order of strings, `lower()` folding more than
     ASCII where `translate` does not, the compensated sum keeping what a
     plain one loses, the literal forms of `Spark::literal`.
  7. With --generated FILE, the generated queries it lists (written by the
     cargo test tests/it/spark.rs from segql's query generator) on their
     generated data sets, each exported and loaded as in step 2.
  8. With --executor-logs DIR (a cluster's worker directories), that the
     queries ran as tasks on the executors: their logs must show at least
     one finished task per query that read the exported tables.

The Spark session is pinned as the dialect requires: time zone UTC, ANSI
mode on, and everything bound to 127.0.0.1.

Usage (from the repository root, after `cargo build`):
    python3 -m venv .venv-spark && .venv-spark/bin/pip install 'pyspark[connect]'
    .venv-spark/bin/python scripts/spark/agree.py [--segql target/debug/segql]
On a cluster:
    scripts/spark/cluster.sh start
    .venv-spark/bin/python scripts/spark/agree.py --remote sc://127.0.0.1:15002 \
        --executor-logs target/spark-cluster/work
    scripts/spark/cluster.sh stop

Exit status 0 when every query agrees, 1 otherwise.
"""

import argparse
import datetime as dt
import glob
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import tomllib
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-01-15T12:00:00Z"

# Queries on the records that add_edge_cases writes, beside the fixtures.
EXTRA_QUERIES = [
    'contact where job_title contains "é"',
    'contact where job_title contains "école"',
    'contact where job_title contains "ÉCOLE"',
    'contact where job_title contains "100%"',
    'contact where job_title contains "%_"',
    'contact where job_title starts with "école"',
    'contact where job_title ends with "r_d"',
    'contact where not job_title contains "%"',
    'contact where job_title > "Z"',
    'contact where job_title < "a"',
    'contact where sum(lead.estimated_value) > 0',
    'contact where sum(lead.estimated_value) = 0.5',
    'contact where avg(lead.estimated_value) > 0.1',
    'contact where city != "Paris"',
    'contact where not (city = "Paris") and has lead(score > 3)',
    'contact where max(interaction.occurred_on) < now - 90d',
    'contact where birth_date >= today - 20000d',
    'lead where created_on >= 2025-06-01',
    'contact where count(lead) between 1 and 2 or has no interaction',
]

# job_title values of the extra contacts.
EDGE_TITLES = [
    "École 100% Privée",
    "ÉCOLE",
    "école",
    "r%_d",
    "Head of R_D",
    "Zebra",
    "Ärger",
]
# estimated_value of three leads of one contact: exactly 0.5 in total.
EDGE_DECIMALS = [1.0e300, 0.5, -1.0e300]
OVERFLOW_SCORES = [9_000_000_000_000_000_000, 9_000_000_000_000_000_000]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segql", default=str(ROOT / "target" / "debug" / "segql"))
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument(
        "--extra-only",
        action="store_true",
        help="skip the fixtures: run EXTRA_QUERIES, the overflow and the spellings only",
    )
    parser.add_argument("--remote", help="a Spark Connect URL (sc://127.0.0.1:15002); local mode without it")
    parser.add_argument("--generated", help="a JSON file of generated data sets and queries")
    parser.add_argument(
        "--executor-logs",
        help="the cluster's worker directories: check that the executors ran the queries",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="segql-spark-") as tmp:
        db = Path(tmp) / "crm.db"
        segql(args.segql, "demo", "--out", str(db), "--contacts", str(args.contacts))
        add_edge_cases(db)
        tasks_before = finished_tasks(args.executor_logs)
        spark = start_spark(args.remote)
        try:
            schema = load_schema(args.segql)
            load_tables(spark, args.segql, db, schema, Path(tmp) / "lake")
            spelling_failures = check_spellings(spark)
            failures, on_files = compare_all(spark, args.segql, db, args.extra_only)
            failures += spelling_failures
            failures += check_overflow(spark, args.segql, db, schema, Path(tmp) / "lake-overflow")
            failures += compare_semantics(spark, args.segql, schema)
            if args.generated:
                more, queries = compare_generated(spark, args.segql, schema, args.generated, Path(tmp))
                failures += more
                on_files += queries
            if args.executor_logs:
                failures += check_executors(args.executor_logs, tasks_before, on_files)
        finally:
            spark.stop()
    if failures:
        print(f"{failures} disagreement(s)")
        return 1
    print("every query agrees")
    return 0


def segql(binary, *arguments):
    """Runs segql; its standard output, or an exception with its error."""
    done = subprocess.run(
        [binary, *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SegqlError(done.stderr.strip())
    return done.stdout


class SegqlError(Exception):
    pass


def add_edge_cases(db):
    """Adds contacts and leads whose values Spark's own text and sum
    functions would get wrong (see EDGE_TITLES, EDGE_DECIMALS)."""
    con = sqlite3.connect(db)
    with con:
        for i, title in enumerate(EDGE_TITLES):
            con.execute(
                "INSERT INTO contact (id, job_title) VALUES (?, ?)",
                (f"eeeeeeee-0000-4000-8000-{i:012d}", title),
            )
        owner = "eeeeeeee-0000-4000-8000-000000000000"
        for i, value in enumerate(EDGE_DECIMALS):
            con.execute(
                "INSERT INTO lead (id, contact_id, estimated_value) VALUES (?, ?, ?)",
                (f"eeeeeeee-1111-4000-8000-{i:012d}", owner, value),
            )
    con.close()


def start_spark(remote=None):
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    if remote:
        spark = SparkSession.builder.remote(remote).appName("segql-agree").getOrCreate()
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        spark.conf.set("spark.sql.ansi.enabled", "true")
        return spark
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("segql-agree")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "true")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    set_log_level(spark, "ERROR")
    return spark


def load_schema(binary):
    """{table: [(column, segql type)]} of the built-in schema."""
    entities = json.loads(segql(binary, "schema", "--format", "json"))["entities"]
    tables = {}
    for entity in entities:
        full = json.loads(segql(binary, "schema", entity["name"], "--format", "json"))
        # The built-in schema names every column after its field.
        tables[full["table"]] = [(f["name"], f["type"]) for f in full["fields"]]
    return tables


def spark_type(kind):
    from pyspark.sql import types as T

    return {
        "uuid": T.StringType(),
        "text": T.StringType(),
        "integer": T.LongType(),
        "choice": T.IntegerType(),
        "decimal": T.DoubleType(),
        "bool": T.BooleanType(),
        "date": T.DateType(),
        "datetime": T.TimestampType(),
    }[kind]


def convert(kind, value):
    """A value as SQLite stores it (SPEC 3.1) to its Python type for Spark."""
    if value is None:
        return None
    if kind == "bool":
        return bool(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "datetime":
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    if kind == "decimal":
        return float(value)
    return value


def load_tables(spark, binary, db, schema, lake):
    """Exports the SQLite file `db` as Parquet into the directory `lake`
    with `segql export` and loads the tables of `schema` as views, checking
    that Spark reads each column with the dialect's type."""
    segql(binary, "export", "--db", str(db), "--out", str(lake), "--quiet")
    for table, columns in schema.items():
        frame = spark.read.parquet(str(lake / table))
        got = [(f.name, f.dataType.simpleString()) for f in frame.schema.fields]
        want = [(c, spark_type(k).simpleString()) for c, k in columns]
        if got != want:
            raise SystemExit(f"{table}: Spark reads the exported columns as {got}, not {want}")
        frame.createOrReplaceTempView(table)


def fixtures(extra_only):
    """(name, segql arguments) of the fixtures on the built-in schema, then
    of EXTRA_QUERIES."""
    for folder in () if extra_only else ("valid", "aggregates"):
        for path in sorted((ROOT / "tests" / "queries" / folder).glob("*.segql")):
            options = []
            skip = False
            for line in path.read_text().splitlines():
                comment = line.strip()
                if not comment.startswith("#"):
                    continue
                comment = comment[1:].strip()
                if comment.startswith("schema:"):
                    skip = True
                elif comment.startswith("library:"):
                    library = ROOT / "tests" / "libraries" / comment.split(":", 1)[1].strip()
                    options += ["--library", str(library)]
                elif comment.startswith("guard:"):
                    options += ["--guard", comment.split(":", 1)[1].strip()]
            if not skip:
                yield f"{folder}/{path.name}", options + ["-f", str(path)]
    for query in EXTRA_QUERIES:
        yield query, [query]


def set_log_level(spark, level):
    """Spark's log level, where the session has a SparkContext (not through
    Spark Connect, whose server keeps its own)."""
    if not is_remote(spark):
        spark.sparkContext.setLogLevel(level)


def is_remote(spark):
    return type(spark).__module__.startswith("pyspark.sql.connect")


def on_spark(spark, binary, query_args, count=False, now=NOW):
    compiled = json.loads(
        segql(
            binary,
            "compile",
            "--dialect",
            "spark",
            "--format",
            "json",
            "--now",
            now,
            *(["--count"] if count else []),
            *query_args,
        )
    )
    args = {f"p{i + 1}": value for i, value in enumerate(compiled["params"])}
    rows = spark.sql(compiled["sql"], args=args).collect()
    if count:
        return rows[0][0]
    return [row[0] for row in rows]


def on_sqlite(binary, db, query_args, now=NOW):
    out = segql(binary, "run", "--db", str(db), "--now", now, "--format", "ids", *query_args)
    return out.split()


def compare_all(spark, binary, db, extra_only):
    """Every fixture and extra query on the demo data; the failures and the
    number of queries run."""
    failures = 0
    total = 0
    for name, query_args in fixtures(extra_only):
        total += 1
        try:
            expected = on_sqlite(binary, db, query_args)
            got = on_spark(spark, binary, query_args)
            count = on_spark(spark, binary, query_args, count=True)
        except Exception as error:  # a Spark or segql error is a disagreement
            failures += 1
            print(f"FAIL {name}: {str(error).splitlines()[0]}")
            continue
        if got != expected or count != len(expected):
            failures += 1
            print(f"FAIL {name}: sqlite {len(expected)} ids, spark {len(got)} ids, count {count}")
        else:
            print(f"ok   {name}: {len(expected)} ids")
    print(f"{total - failures} of {total} queries agree")
    return failures, total


def compare_generated(spark, binary, schema, path, tmp):
    """The generated queries of the JSON file `path` on their data sets: the
    failures and the number of queries run."""
    cases = json.loads(Path(path).read_text())
    failures = total = 0
    for n, data_set in enumerate(cases["data_sets"]):
        load_tables(spark, binary, data_set["db"], schema, tmp / f"generated-{n}")
        now = data_set["now"]
        library = ["--library", data_set["library"]]
        for case in data_set["queries"]:
            total += 1
            query_args = library + [a for g in case["guards"] for a in ("--guard", g)]
            query_args.append(case["query"])
            try:
                expected = on_sqlite(binary, data_set["db"], query_args, now=now)
            except SegqlError as error:
                # An integer sum out of range must fail on Spark as well.
                if "64-bit integer" not in str(error):
                    failures += 1
                    print(f"FAIL generated {n}: {case['query']}: on SQLite: {error}")
                    continue
                expected = error
            # An integer sum out of range is an error in every engine, but
            # the engines do not sum the same groups: SQLite sums every
            # group of a subquery, Spark the groups its plan reads, and
            # either may leave out a sum the other's plan folded away. So
            # where either reports one (Spark in its own words, or two such
            # task failures wrapped in one stage failure), the answers are
            # not compared, as in the differential suite
            # (tests/it/differential/counts.rs).
            try:
                got = on_spark(spark, binary, query_args, now=now)
            except Exception as error:
                if spark_overflow(error) and (
                    isinstance(expected, SegqlError) or "sum(" in case["query"].lower()
                ):
                    print(f"skip generated {n}: an integer sum out of range on Spark")
                    continue
                failures += 1
                # The first lines: a stage failure's causes follow its own.
                reason = "\n  ".join(str(error).splitlines()[:4])
                print(f"FAIL generated {n}: {case['query']}: {reason}")
                continue
            if isinstance(expected, SegqlError):
                print(f"skip generated {n}: an integer sum out of range on SQLite only")
                continue
            if got != expected:
                failures += 1
                print(
                    f"FAIL generated {n}: {case['query']} (guards {case['guards']}): "
                    f"sqlite {len(expected)} ids, spark {len(got)} ids"
                )
    print(f"{total - failures} of {total} generated queries agree (seed {cases.get('seed')})")
    return failures, total


def finished_tasks(work_dir):
    """{executor log: finished tasks} under a cluster's worker directories
    (WORKER/APP/EXECUTOR/stderr)."""
    if not work_dir:
        return {}
    counts = {}
    for log in glob.glob(os.path.join(work_dir, "*", "app-*", "*", "stderr")):
        with open(log, errors="replace") as f:
            counts[log] = sum("Finished task" in line for line in f)
    return counts


def check_executors(work_dir, before, queries):
    """That the executors ran the queries: at least one task finished per
    query that read the exported tables (each scans a Parquet file)."""
    after = finished_tasks(work_dir)
    per_worker = {}
    for log, count in after.items():
        worker = Path(log).parts[-4]
        per_worker[worker] = per_worker.get(worker, 0) + count - before.get(log, 0)
    ran = sum(per_worker.values())
    shown = ", ".join(f"{w}: {c}" for w, c in sorted(per_worker.items())) or "no executor logs"
    if ran >= queries:
        print(f"ok   the executors ran {ran} tasks for {queries} queries ({shown})")
        return 0
    print(f"FAIL the executors ran {ran} tasks for {queries} queries ({shown}) under {work_dir}")
    return 1


FOLD = "translate({}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
NEUMAIER = (
    "aggregate({}, named_struct('s', CAST(0 AS DOUBLE), 'c', CAST(0 AS DOUBLE)), "
    "(a, x) -> named_struct('s', a.s + x, 'c', a.c + CASE WHEN abs(a.s) >= abs(x) "
    "THEN (a.s - (a.s + x)) + x ELSE (x - (a.s + x)) + a.s END), a -> a.s + a.c)"
)
# (what, Spark SQL, the value it must have): what the dialect relies on.
SPELLINGS = [
    ("code-point order: É after a", "SELECT 'É' > 'a'", True),
    ("code-point order, not UTF-16's", "SELECT '\uFFFD' < '\U0001F600'", True),
    ("lower() folds É", "SELECT lower('ÉCOLE')", "école"),
    ("translate folds ASCII only", "SELECT " + FOLD.format("'ÉCOLE'"), "École"),
    ("translate keeps astral characters", "SELECT " + FOLD.format("'X😀Y'"), "x😀y"),
    ("a plain sum loses 0.5", "SELECT 1e300D + 0.5D - 1e300D", 0.0),
    ("the compensated sum keeps it", "SELECT " + NEUMAIER.format("array(1e300D, 0.5D, -1e300D)"), 0.5),
    ("contains takes % literally", "SELECT contains('100 percent', '100%')", False),
    ("a quote and a backslash literal", "SELECT 'it\\'s a \\\\ '", "it's a \\ "),
    ("a date-time literal in UTC", "SELECT CAST(TIMESTAMP '2024-05-01T00:00:00Z' AS STRING)", "2024-05-01 00:00:00"),
    ("a date-time marker's text", "SELECT CAST(CAST(:p1 AS TIMESTAMP) AS STRING)", "2024-05-01 00:00:00"),
]


def check_spellings(spark):
    failures = 0
    for what, sql, expected in SPELLINGS:
        got = spark.sql(sql, args={"p1": "2024-05-01T00:00:00Z"} if ":p1" in sql else None).collect()[0][0]
        if got == expected:
            print(f"ok   {what}")
        else:
            failures += 1
            print(f"FAIL {what}: {sql} gave {got!r}, not {expected!r}")
    return failures


def compare_semantics(spark, binary, schema):
    """The query cases of the semantics tests, on their data sets."""
    cases = tomllib.loads((ROOT / "tests" / "it" / "semantics" / "cases.toml").read_text())
    failures = total = 0
    loaded = None
    for group in cases["group"]:
        queries = [case for case in group["cases"] if "query" in case]
        if not queries:
            continue  # cases in the plan notation need segql's test code
        if loaded != group["data"]:
            loaded = group["data"]
            load_data_set(spark, schema, cases["data"][loaded])
        now = cases["data"][loaded]["now"]
        for case in queries:
            total += 1
            name = f"{group['name']}: {case['query']}"
            query_args = [a for g in case.get("guards", []) for a in ("--guard", g)]
            query_args.append(case["query"])
            try:
                got = [uuid.UUID(i).int for i in on_spark(spark, binary, query_args, now=now)]
            except Exception as error:
                if "error" in case and expected_error(case["error"], error):
                    print(f"ok   {name}: fails ({str(error).splitlines()[0][:80]})")
                else:
                    failures += 1
                    print(f"FAIL {name}: {str(error).splitlines()[0]}")
                continue
            if "error" in case:
                failures += 1
                print(f"FAIL {name}: ids {got}, not the error {case['error']}")
            elif got != case["ids"]:
                failures += 1
                print(f"FAIL {name}: ids {got}, not {case['ids']}")
            else:
                print(f"ok   {name}: {got}")
    print(f"{total - failures} of {total} semantics cases agree")
    return failures


def spark_overflow(error):
    """Whether Spark's `error` is an integer sum out of range: its own
    overflow error, alone or among the task failures a stage failure
    wraps (STAGE_MATERIALIZATION_MULTIPLE_FAILURES lists each on a line of
    its own)."""
    return expected_error("integer overflow", error)


def expected_error(kind, error):
    """Whether `error` is the error of kind `kind` that cases.toml expects:
    segql's own (a query error, at compile time), or Spark's for an integer
    sum out of range (what `Spark::is_sum_overflow` recognises)."""
    if kind == "integer overflow":
        return "CAST_OVERFLOW" in str(error) or "ARITHMETIC_OVERFLOW" in str(error)
    return isinstance(error, SegqlError) and kind in str(error)


def load_data_set(spark, schema, data):
    """A data set of cases.toml as the tables' views: a uuid is a number n
    (the uuid whose 128 bits are n), a field left out is NULL but contact's
    bools, which are then false."""
    from pyspark.sql import types as T

    for table, columns in schema.items():
        rows = []
        for record in data.get(table, []):
            row = []
            for column, kind in columns:
                value = record.get(column)
                if value is None and kind == "bool" and table == "contact":
                    value = False
                elif value is not None and kind == "uuid":
                    value = str(uuid.UUID(int=value))
                row.append(convert(kind, value))
            rows.append(tuple(row))
        struct = T.StructType([T.StructField(c, spark_type(k), True) for c, k in columns])
        spark.createDataFrame(rows, struct).createOrReplaceTempView(table)


def check_overflow(spark, binary, db, schema, lake):
    """Two scores of 9e18 on one contact: `sum(lead.score)` leaves the i64
    range, an error on SQLite and on Spark alike."""
    owner = "eeeeeeee-0000-4000-8000-000000000001"
    con = sqlite3.connect(db)
    with con:
        for i, score in enumerate(OVERFLOW_SCORES):
            con.execute(
                "INSERT INTO lead (id, contact_id, score) VALUES (?, ?, ?)",
                (f"eeeeeeee-2222-4000-8000-{i:012d}", owner, score),
            )
    con.close()
    load_tables(spark, binary, db, {"lead": schema["lead"]}, lake)
    query = ["contact where sum(lead.score) > 0"]
    failures = 0
    try:
        on_sqlite(binary, db, query)
        print("FAIL overflow: SQLite returned ids")
        failures += 1
    except SegqlError as error:
        print(f"ok   overflow on SQLite: {error}")
    # The failure is expected: keep Spark's log of it off the output (the
    # error itself still reaches us).
    set_log_level(spark, "OFF")
    try:
        on_spark(spark, binary, query)
        print("FAIL overflow: Spark returned ids")
        failures += 1
    except SegqlError:
        raise
    except Exception as error:
        message = str(error)
        if "CAST_OVERFLOW" in message or "ARITHMETIC_OVERFLOW" in message:
            print(f"ok   overflow on Spark: {message.splitlines()[0]}")
        else:
            print(f"FAIL overflow: Spark failed otherwise: {message.splitlines()[0]}")
            failures += 1
    return failures


if __name__ == "__main__":
    sys.exit(main())
