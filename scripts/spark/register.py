#!/usr/bin/env python3
"""Registers the tables of a `segql export` directory in a Spark Connect
server's catalog, so that `segql run --db sc://HOST:PORT` (and any other
session of that server) finds them by the schema's table names.

For each table directory under LAKE (one per table, docs/export.md) it runs
    CREATE TABLE `name` USING parquet LOCATION 'LAKE/name'
in the session's current catalog and database; with --replace, a table of
that name is dropped first (an external table: dropping it leaves the files).

Usage (pyspark 4 with Spark Connect, e.g. the .venv-spark of
scripts/spark/cluster.sh):
    segql export --db crm.db --out /data/crm
    .venv-spark/bin/python scripts/spark/register.py --remote sc://127.0.0.1:15002 /data/crm
    segql run --db sc://127.0.0.1:15002 'contact where has lead(status = "Open")'

The directories must be readable by the Spark executors under the same path.
"""

import argparse
import os
import sys
from pathlib import Path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lake", help="the --out directory of segql export")
    parser.add_argument("--remote", required=True, help="a Spark Connect URL, sc://HOST:PORT")
    parser.add_argument("--replace", action="store_true", help="drop tables of the same names first")
    args = parser.parse_args()

    lake = Path(args.lake).resolve()
    tables = sorted(d for d in lake.iterdir() if d.is_dir() and any(d.glob("part-*.parquet")))
    if not tables:
        print(f"register: no exported table under {lake}", file=sys.stderr)
        return 1
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.remote(args.remote).getOrCreate()
    try:
        for table in tables:
            name = "`" + table.name.replace("`", "``") + "`"
            location = str(table).replace("\\", "\\\\").replace("'", "\\'")
            if args.replace:
                spark.sql(f"DROP TABLE IF EXISTS {name}")
            spark.sql(f"CREATE TABLE {name} USING parquet LOCATION '{location}'")
            print(f"registered {table.name}: {spark.table(name).count()} rows")
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
