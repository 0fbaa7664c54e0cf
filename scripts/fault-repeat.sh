#!/usr/bin/env bash
# Repeatability of the fault suite (issue 13): run tests/fault N times in a row with CI's batch sizes, optionally
# while `make bench` loads the machine, and record every run's outcome and duration.
#
#   scripts/fault-repeat.sh 5                 # five runs in a row on a quiet machine
#   BESIDE_BENCH=1 scripts/fault-repeat.sh 5  # five runs while `make bench` runs in a loop beside them
#
# Results: one JSON line per run appended to artifacts/fault-repeat.jsonl (run, load, seconds, status,
# passed/failed counts from pytest's closing line). Exit status: 0 only when every run passed.
set -uo pipefail
cd "$(dirname "$0")/.."

runs="${1:-5}"
PY=.venv/bin/python
[ -x "$PY" ] || { echo "run 'make install' first (no .venv)"; exit 1; }
mkdir -p artifacts
load="quiet"
bench_pid=""
if [ "${BESIDE_BENCH:-0}" = "1" ]; then
  load="beside make bench"
  # The same measurements as `make bench` (quick sizes), written aside so they never replace the real figures.
  ( while true; do "$PY" -m bench.run --quick --out artifacts/fault-repeat-bench.json \
      >>artifacts/fault-repeat-bench.log 2>&1 || true; done ) &
  bench_pid=$!
  # SIGINT, not SIGTERM: the bench then stops its own Kafka and Redis (its `finally`) instead of leaving them.
  trap 'kill "$bench_pid" 2>/dev/null; pkill -INT -f "bench.run --quick --out artifacts/fault-repeat-bench.json"; wait' EXIT
  sleep 20
fi
failures=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  "$PY" -m pytest tests/fault -q -ra -p no:cacheprovider >"artifacts/fault-repeat-$i.log" 2>&1
  status=$?
  seconds=$(( $(date +%s) - start ))
  summary=$(grep -E "^[=]* ?[0-9]+ (passed|failed)" "artifacts/fault-repeat-$i.log" | tail -1 | tr -d '=' | xargs)
  [ "$status" -eq 0 ] || failures=$((failures + 1))
  printf '{"run": %d, "load": "%s", "seconds": %d, "status": %d, "summary": "%s", "load_avg": "%s"}\n' \
    "$i" "$load" "$seconds" "$status" "$summary" "$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a artifacts/fault-repeat.jsonl
done
echo "fault suite: $runs runs ($load), $failures failed"
[ "$failures" -eq 0 ]
