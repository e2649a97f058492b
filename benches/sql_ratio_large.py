"""Generated SQL against hand-written SQL on a large SQLite demo (issue 19's
10M table): per segment, one untimed run of each (to warm the page cache as
evenly as a file larger than memory allows), then RUNS interleaved timed
runs of each, medians.

    python3 benches/sql_ratio_large.py /work/bench/demo-10000000.db [RUNS] [segql]

The generated SQL comes from `segql compile --format json` (optimized,
--now 2025-01-01T00:00:00Z, the demo's reference time); the hand-written
SQL is that of benches/sql_vs_handwritten.rs, ordered the way a DBA orders
after reading the plan (`ORDER BY +id`, a sort of the hits, not a walk of
the key's index). Both run on one connection with the page cache segql's
own connections use (1 GiB), and must give the same ids.
"""
import json
import statistics
import subprocess
import sqlite3
import sys
import time

DB = sys.argv[1]
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 1
SEGQL = sys.argv[3] if len(sys.argv) > 3 else "target/release/segql"
NOW = "2025-01-01T00:00:00Z"

CASES = [
    ("spec_example",
     'contact where role = "decision maker" and has lead(topic = "Contoso Ltd Conference")',
     "SELECT c.id FROM contact c WHERE c.role = ? AND EXISTS "
     "(SELECT 1 FROM lead l WHERE l.contact_id = c.id AND l.topic = ?) ORDER BY +c.id",
     [1, "Contoso Ltd Conference"]),
    ("contact_fields",
     'contact where country = "France" and consent_level >= "Marketing" and not do_not_email',
     "SELECT id FROM contact WHERE country = ? AND consent_level >= ? "
     "AND do_not_email = 0 ORDER BY +id",
     ["France", 4]),
    ("nested",
     'contact where has lead(has account(industry = "Retail"))',
     "SELECT id FROM contact WHERE id IN (SELECT l.contact_id FROM lead l "
     "JOIN account a ON a.id = l.account_id WHERE a.industry = ?) ORDER BY +id",
     [8]),
    ("agg_open_pipeline",
     'contact where sum(lead(status = "Open").estimated_value) > 10000',
     "SELECT id FROM contact WHERE id IN (SELECT contact_id FROM lead "
     "WHERE status = ? GROUP BY contact_id HAVING SUM(estimated_value) > ?) ORDER BY +id",
     [0, 10000.0]),
]


def compiled(segment):
    out = subprocess.run(
        [SEGQL, "compile", "--format", "json", "--now", NOW, "-q", segment],
        check=True, capture_output=True, text=True).stdout
    q = json.loads(out)
    return q["sql"], q["params"]


def timed(conn, sql, params):
    start = time.perf_counter()
    ids = [row[0] for row in conn.execute(sql, params)]
    return time.perf_counter() - start, ids


def main():
    conn = sqlite3.connect(f"file:{DB}?mode=ro", uri=True)
    conn.execute("PRAGMA cache_size = -1048576")
    print(f"# {DB}, SQLite {sqlite3.sqlite_version}, medians of {RUNS} after a warm-up")
    print("| segment | ids | generated s | hand-written s | ratio |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, segment, hand_sql, hand_params in CASES:
        sql, params = compiled(segment)
        _, ours = timed(conn, sql, params)
        _, theirs = timed(conn, hand_sql, hand_params)
        if sorted(ours) != sorted(theirs):
            sys.exit(f"{name}: different ids ({len(ours)} against {len(theirs)})")
        generated, hand = [], []
        for _ in range(RUNS):
            generated.append(timed(conn, sql, params)[0])
            hand.append(timed(conn, hand_sql, hand_params)[0])
        g, h = statistics.median(generated), statistics.median(hand)
        print(f"| {name} | {len(ours):,} | {g:.2f} | {h:.2f} | {g / h:.2f} |", flush=True)


if __name__ == "__main__":
    main()
