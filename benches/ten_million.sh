#!/bin/bash
# The benchmark segments (those of benches/eval.rs and one_shot_runs.sh) on a
# large demo database, one run each: whole-process wall time and peak
# resident memory of `segql run --count` on SQLite, on the memory engine
# loading from SQLite (which saves a snapshot), and on the memory engine
# reading that snapshot; the load and evaluation times the memory runs print
# with --timing; and whether all three count the same records.
#
#   segql demo --out /work/bench/demo-10000000.db --contacts 10000000 \
#     --seed 1 --now 2025-01-01T00:00:00Z
#   B=target/release/segql DB=/work/bench/demo-10000000.db benches/ten_million.sh
#
# Each segment's snapshots are deleted after it, so the cache never holds
# more than one segment's columns (up to a few GB at 10M contacts).
B=${B:-target/release/segql}
DB=${DB:?set DB to the demo database}
NOW=2025-01-01T00:00:00Z
CACHE=$(mktemp -d)
OUT=$(mktemp -d)
source "$(dirname "$0")/segments.sh"

# run ENGINE QUERY: prints "count wall_s rss_mb timing..." for one process.
run() {
  SEGQL_CACHE_DIR=$CACHE /usr/bin/time -f "%e %M" -o $OUT/time \
    $B run --db $DB --now $NOW --engine $1 --count --timing "$2" > $OUT/count 2> $OUT/err
  local timing=$(grep -h '^timing: load' $OUT/err | sed 's/^timing: //')
  read wall rss < $OUT/time
  echo "$(cat $OUT/count) $wall $((rss / 1024)) ${timing:-}"
}

echo "# $(date -u) load $(cat /proc/loadavg | cut -d' ' -f1-3); $(ls -la $DB | awk '{print $5}') bytes"
echo "# segment | records | sqlite s | sqlite MB | memory (load) s | MB | load / evaluate | memory (snapshot) s | MB | load / evaluate"
for s in ${SEGMENTS:-$ORDER}; do
  q="${Q[$s]}"
  read sc sw sm _ <<< "$(run sqlite "$q")"
  read mc mw mm mt <<< "$(run memory "$q")"
  read cc cw cm ct <<< "$(run memory "$q")"
  same=$([ "$sc" = "$mc" ] && [ "$sc" = "$cc" ] && echo "" || echo " DIFFERENT COUNTS $sc $mc $cc")
  echo "$s | $sc | $sw | $sm | $mw | $mm | $mt | $cw | $cm | $ct$same"
  rm -rf $CACHE/*
done
echo "# $(date -u) load $(cat /proc/loadavg | cut -d' ' -f1-3)"
