#!/usr/bin/env python3
"""Times the benchmark segments of benches/eval.rs on DuckDB and SQLite.

Loads the demo database that `cargo bench --bench eval` generated
(target/bench/demo-N.db) into DuckDB with native types (UUID, TIMESTAMP, DATE,
BOOLEAN, INTEGER, DOUBLE), runs the same segments as hand-written SQL on
DuckDB and on SQLite (median of several runs, after one warm-up), checks that
every engine counts the same records, and prints a table next to segql's
in-memory figures read from criterion's results (target/criterion/count/NAME/N).

Usage: python3 benches/duckdb_compare.py [N] [--runs 7] [--only NAME,NAME]
Needs the `duckdb` Python package (pip install duckdb).
"""

import argparse
import csv
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

import duckdb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# now = 2025-01-01T00:00:00Z, as in benches/eval.rs; now - 30d:
SINCE = "2024-12-02T00:00:00Z"

# name -> (DuckDB SQL, SQLite SQL). Both count the contacts the segment selects,
# with SPEC's two-valued logic (a NULL never satisfies a test; `!=` matches NULL).
# SQLite groups a child table's filtered rows by `+contact_id`: a scan and a
# sort, where the plain key walks the foreign key's index and fetches every
# row at random (benches/README.md, "The index walk under a `GROUP BY`").
QUERIES = {
    "spec_example": (
        """SELECT count(*) FROM contact c WHERE c.role = 1 AND c.id IN
           (SELECT contact_id FROM lead WHERE topic = 'Contoso Ltd Conference')""",
        """SELECT count(*) FROM contact c WHERE c.role = 1 AND c.id IN
           (SELECT contact_id FROM lead WHERE topic = 'Contoso Ltd Conference')""",
    ),
    "contact_fields": (
        """SELECT count(*) FROM contact WHERE country = 'Germany' AND consent_level >= 4
           AND birth_date < DATE '1990-01-01'""",
        """SELECT count(*) FROM contact WHERE country = 'Germany' AND consent_level >= 4
           AND birth_date < '1990-01-01'""",
    ),
    "recent_opens": (
        f"""SELECT count(*) FROM contact WHERE id IN
           (SELECT contact_id FROM interaction WHERE type = 3
            AND occurred_on >= TIMESTAMP '{SINCE[:10]} {SINCE[11:19]}'
            GROUP BY contact_id HAVING count(*) >= 3)""",
        f"""SELECT count(*) FROM contact WHERE id IN
           (SELECT contact_id FROM interaction WHERE type = 3 AND occurred_on >= '{SINCE}'
            GROUP BY +contact_id HAVING count(*) >= 3)""",
    ),
    "nested": (
        """SELECT count(*) FROM contact WHERE id IN
           (SELECT l.contact_id FROM lead l JOIN account a ON a.id = l.account_id
            WHERE a.industry = 8)""",
        """SELECT count(*) FROM contact WHERE id IN
           (SELECT l.contact_id FROM lead l JOIN account a ON a.id = l.account_id
            WHERE a.industry = 8)""",
    ),
    "negations": (
        """SELECT count(*) FROM contact c WHERE NOT do_not_email AND NOT do_not_bulk_email
           AND (city IS NULL OR city <> 'Berlin')
           AND c.id NOT IN (SELECT contact_id FROM lead WHERE status = 2 AND contact_id IS NOT NULL)
           AND NOT (coalesce(role = 2, false) OR is_child)""",
        """SELECT count(*) FROM contact c WHERE do_not_email = 0 AND do_not_bulk_email = 0
           AND (city IS NULL OR city <> 'Berlin')
           AND c.id NOT IN (SELECT contact_id FROM lead WHERE status = 2 AND contact_id IS NOT NULL)
           AND NOT (coalesce(role = 2, 0) OR is_child)""",
    ),
    "text_contains": (
        """SELECT count(*) FROM contact WHERE email ILIKE '%mueller%' OR last_name ILIKE '%son%'""",
        """SELECT count(*) FROM contact WHERE email LIKE '%mueller%' OR last_name LIKE '%son%'""",
    ),
    "wide_or": (
        """SELECT count(*) FROM contact WHERE city = 'Paris' OR city = 'Toronto'
           OR country = 'Japan' OR job_title = 'CEO' OR first_name = 'Hannah' OR role = 3
           OR consent_level = 6 OR is_child OR email ILIKE '%.fr'
           OR id IN (SELECT contact_id FROM lead GROUP BY contact_id HAVING count(*) >= 4)""",
        """SELECT count(*) FROM contact WHERE city = 'Paris' OR city = 'Toronto'
           OR country = 'Japan' OR job_title = 'CEO' OR first_name = 'Hannah' OR role = 3
           OR consent_level = 6 OR is_child OR email LIKE '%.fr'
           OR id IN (SELECT contact_id FROM lead GROUP BY contact_id HAVING count(*) >= 4)""",
    ),
}

# now - 90d, for the last-open aggregate.
BEFORE = "2024-10-03T00:00:00Z"

QUERIES.update({
    "agg_open_pipeline": (
        """SELECT count(*) FROM contact WHERE id IN
           (SELECT contact_id FROM lead WHERE status = 0
            GROUP BY contact_id HAVING sum(estimated_value) > 10000)""",
        """SELECT count(*) FROM contact WHERE id IN
           (SELECT contact_id FROM lead WHERE status = 0
            GROUP BY +contact_id HAVING sum(estimated_value) > 10000)""",
    ),
    "agg_last_open": (
        f"""SELECT count(*) FROM contact WHERE id IN
           (SELECT contact_id FROM interaction WHERE type = 3
            GROUP BY contact_id
            HAVING max(occurred_on) < TIMESTAMP '{BEFORE[:10]} {BEFORE[11:19]}')""",
        f"""SELECT count(*) FROM contact WHERE id IN
           (SELECT contact_id FROM interaction WHERE type = 3
            GROUP BY +contact_id HAVING max(occurred_on) < '{BEFORE}')""",
    ),
    "agg_lead_clicks": (
        f"""SELECT count(*) FROM lead WHERE contact_id IN
           (SELECT contact_id FROM interaction WHERE type = 4
            AND occurred_on >= TIMESTAMP '{SINCE[:10]} {SINCE[11:19]}'
            GROUP BY contact_id HAVING count(*) >= 2)""",
        f"""SELECT count(*) FROM lead WHERE contact_id IN
           (SELECT contact_id FROM interaction WHERE type = 4 AND occurred_on >= '{SINCE}'
            GROUP BY +contact_id HAVING count(*) >= 2)""",
    ),
})

# DuckDB column types per table; text columns stay VARCHAR.
TYPES = {
    "account": {"id": "UUID", "industry": "INTEGER", "employees": "BIGINT",
                "annual_revenue": "DOUBLE", "created_on": "TIMESTAMP"},
    "contact": {"id": "UUID", "role": "INTEGER", "birth_date": "DATE", "created_on": "TIMESTAMP",
                "marketing_only": "BOOLEAN", "do_not_email": "BOOLEAN",
                "do_not_bulk_email": "BOOLEAN", "allow_prefill": "BOOLEAN",
                "consent_level": "INTEGER", "is_child": "BOOLEAN", "account_id": "UUID"},
    "lead": {"id": "UUID", "status": "INTEGER", "source": "INTEGER", "score": "BIGINT",
             "sales_ready": "BOOLEAN", "estimated_value": "DOUBLE", "created_on": "TIMESTAMP",
             "contact_id": "UUID", "account_id": "UUID"},
    "interaction": {"id": "UUID", "contact_id": "UUID", "type": "INTEGER",
                    "occurred_on": "TIMESTAMP"},
    "subscription": {"id": "UUID", "contact_id": "UUID", "subscribed_on": "TIMESTAMP"},
}


def export_csv(db, table, path):
    """Writes `table` as CSV; NULL is an empty unquoted field."""
    if shutil.which("sqlite3"):
        with open(path, "w") as out:
            subprocess.run(["sqlite3", "-csv", "-header", db, f'SELECT * FROM "{table}"'],
                           stdout=out, check=True)
        return
    conn = sqlite3.connect(db)
    cur = conn.execute(f'SELECT * FROM "{table}"')
    with open(path, "w", newline="") as out:
        w = csv.writer(out)
        w.writerow([d[0] for d in cur.description])
        for row in cur:
            w.writerow(["" if v is None else v for v in row])


def load_duckdb(db):
    duck = duckdb.connect()
    tmp = tempfile.mkdtemp(prefix="segql-duck-")
    src = sqlite3.connect(db)
    try:
        for table, types in TYPES.items():
            path = os.path.join(tmp, table + ".csv")
            export_csv(db, table, path)
            cols = [r[1] for r in src.execute(f'PRAGMA table_info("{table}")')]
            all_text = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in cols) + "}"
            select = []
            for c in cols:
                t = types.get(c)
                if t == "TIMESTAMP":
                    select.append(f"strptime({c}, '%Y-%m-%dT%H:%M:%SZ') AS {c}")
                elif t == "BOOLEAN":
                    select.append(f"({c} = '1') AS {c}")
                elif t:
                    select.append(f"CAST({c} AS {t}) AS {c}")
                else:
                    select.append(c)
            duck.execute(
                f"CREATE TABLE {table} AS SELECT {', '.join(select)} FROM "
                f"read_csv('{path}', header = true, columns = {all_text})"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return duck


def median_ms(run, runs):
    run()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def segql_ms(name, contacts):
    base = os.path.join(ROOT, "target", "criterion", "count", name)
    for path in (os.path.join(base, str(contacts), "new", "estimates.json"),
                 os.path.join(base, "new", "estimates.json")):
        try:
            with open(path) as f:
                return json.load(f)["median"]["point_estimate"] / 1e6
        except OSError:
            pass
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("contacts", nargs="?", type=int,
                    default=int(os.environ.get("SEGQL_BENCH_CONTACTS", "50000")))
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--only", help="comma-separated segment names (default: all)")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else set(QUERIES)
    if only - set(QUERIES):
        sys.exit(f"unknown segments: {', '.join(sorted(only - set(QUERIES)))}")
    db = os.path.join(ROOT, "target", "bench", f"demo-{args.contacts}.db")
    if not os.path.exists(db):
        sys.exit(f"{db} is missing: run SEGQL_BENCH_CONTACTS={args.contacts} cargo bench --bench eval")
    start = time.perf_counter()
    duck = load_duckdb(db)
    threads = duck.execute("SELECT current_setting('threads')").fetchone()[0]
    print(f"DuckDB {duckdb.__version__} loaded {db} in {time.perf_counter() - start:.1f} s "
          f"({threads} threads)")
    lite = sqlite3.connect(db)
    counts_path = os.path.join(ROOT, "target", "bench", f"counts-{args.contacts}.json")
    segql_counts = {}
    if os.path.exists(counts_path):
        with open(counts_path) as f:
            segql_counts = json.load(f)

    header = f"{'segment':<15} {'count':>8} {'segql ms':>10} {'DuckDB ms':>10} {'SQLite ms':>10} {'vs DuckDB':>10} {'vs SQLite':>10}"
    print(header)
    print("-" * len(header))
    for name, (duck_sql, lite_sql) in QUERIES.items():
        if name not in only:
            continue
        n_duck = duck.execute(duck_sql).fetchone()[0]
        n_lite = lite.execute(lite_sql).fetchone()[0]
        if n_duck != n_lite or (name in segql_counts and segql_counts[name] != n_duck):
            sys.exit(f"{name}: counts differ: DuckDB {n_duck}, SQLite {n_lite}, segql {segql_counts.get(name)}")
        t_duck = median_ms(lambda: duck.execute(duck_sql).fetchone(), args.runs)
        t_lite = median_ms(lambda: lite.execute(lite_sql).fetchone(), max(3, args.runs // 2))
        t_seg = segql_ms(name, args.contacts)
        ratio = lambda t: f"{t / t_seg:9.1f}x" if t_seg else "        ?"
        seg = f"{t_seg:10.3f}" if t_seg else "         ?"
        print(f"{name:<15} {n_duck:>8} {seg} {t_duck:10.3f} {t_lite:10.1f} {ratio(t_duck)} {ratio(t_lite)}")


if __name__ == "__main__":
    main()
