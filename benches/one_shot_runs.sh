#!/bin/bash
# Whole-process wall time of a one-shot `segql run --engine sqlite` against the
# second `--engine memory` run (which reads the snapshot the first saved),
# medians of N interleaved runs per benchmark segment (the segments of
# benches/eval.rs). Usage: B=target/release/segql DB=target/bench/demo-1000000.db
# N=5 benches/one_shot_runs.sh
B=${B:-target/release/segql}
DB=${DB:-target/bench/demo-1000000.db}
N=${N:-7}
export SEGQL_CACHE_DIR=${SEGQL_CACHE_DIR:-$(mktemp -d)}
OUT=$(mktemp -d)
NOW=2025-01-01T00:00:00Z
source "$(dirname "$0")/segments.sh"
t() { local s=$(date +%s%N); "$@" > $OUT/out 2>$OUT/err; local e=$(date +%s%N); echo $(( (e - s) / 1000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "load before: $(cat /proc/loadavg)"
printf "%-18s %10s %10s %8s %s\n" segment sqlite_ms memory_ms ratio first_memory_ms
for s in ${SEGMENTS:-$ORDER}; do
  q="${Q[$s]}"
  # First run: loads from SQLite and saves the snapshot.
  first=$(t $B run --db $DB --now $NOW --engine memory --format ids "$q")
  $B run --db $DB --now $NOW --engine memory --format ids "$q" | md5sum > $OUT/m.md5
  $B run --db $DB --now $NOW --engine sqlite --format ids "$q" | md5sum > $OUT/s.md5
  cmp -s $OUT/m.md5 $OUT/s.md5 || echo "DIFFERENT ANSWERS for $s"
  sq=(); me=()
  for i in $(seq $N); do
    sq+=($(t $B run --db $DB --now $NOW --engine sqlite --format ids "$q"))
    me+=($(t $B run --db $DB --now $NOW --engine memory --format ids "$q"))
  done
  ms=$(printf "%s\n" "${sq[@]}" | median); mm=$(printf "%s\n" "${me[@]}" | median)
  printf "%-18s %10.1f %10.1f %7.1fx %8.1f  sqlite[%s] memory[%s]\n" $s $(echo "$ms/1000" | bc -l) $(echo "$mm/1000" | bc -l) $(echo "$ms/$mm" | bc -l) $(echo "$first/1000" | bc -l) "$(printf "%s," "${sq[@]}" | sed 's/,$//')" "$(printf "%s," "${me[@]}" | sed 's/,$//')"
done
echo "load after: $(cat /proc/loadavg)"
ls -la $SEGQL_CACHE_DIR
