#!/usr/bin/env bash
# One command: bash bench/audit.sh  (BENCH_AUDIT_EVENTS, BENCH_AUDIT_SCHEMA, BENCH_AUDIT_FRESH,
# BENCH_AUDIT_RUNS, BENCH_AUDIT_MOMENTS,
# BENCH_AUDIT_BASELINE, MLOB_PICTURE_CHECKPOINT_EVERY, BENCH_QUIET_PATIENCE adjust it; see
# bench/audit.py)
set -euo pipefail
cd "$(dirname "$0")/.."
make install-test >/dev/null
pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
exec .venv/bin/python bench/audit.py "$@"
