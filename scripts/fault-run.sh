#!/usr/bin/env bash
# Larger fault runs (issue 9): the same tests as CI (tests/fault), with bigger batches.
#
#   scripts/fault-run.sh                       # 50,000 in the leader-kill test, 10,000 in the others
#   FAULT_BATCH=20000 scripts/fault-run.sh -k leader_kill
#
# Environment (defaults here; CI uses the test defaults 5,000 / 1,500 / 200 / 15):
#   FAULT_BATCH          credentials in the leader-kill batch              (50000)
#   FAULT_SERVICE_BATCH  credentials in each service-kill and wipe batch   (10000)
#   FAULT_VERIFY_SAMPLE  answered credentials verified per test, 0 = all  (1000; retried ones always)
#   FAULT_LOAD_SECONDS   duration of the gateway load run, <= 120          (60)
# Extra arguments go to pytest. Figures are printed (FAULT <name>: {...}) and merged into
# artifacts/fault-results.json. Needs what `make test` needs (Java 17 + Maven for Kafka, redis-server).
set -euo pipefail
cd "$(dirname "$0")/.."

export FAULT_BATCH="${FAULT_BATCH:-50000}"
export FAULT_SERVICE_BATCH="${FAULT_SERVICE_BATCH:-10000}"
export FAULT_VERIFY_SAMPLE="${FAULT_VERIFY_SAMPLE:-1000}"
export FAULT_LOAD_SECONDS="${FAULT_LOAD_SECONDS:-60}"

PY=.venv/bin/python
[ -x "$PY" ] || { echo "run 'make install' first (no .venv)"; exit 1; }
echo "fault run: batch=$FAULT_BATCH service_batch=$FAULT_SERVICE_BATCH verify_sample=$FAULT_VERIFY_SAMPLE" \
     "load_seconds=$FAULT_LOAD_SECONDS"
start=$(date +%s)
status=0
"$PY" -m pytest tests/fault -q -ra -s -p no:cacheprovider "$@" || status=$?
echo "fault run finished in $(( $(date +%s) - start ))s with status $status; figures in artifacts/fault-results.json"
exit "$status"
