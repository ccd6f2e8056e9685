#!/usr/bin/env bash
# One command: bash bench/projections.sh  (BENCH_EVENTS, BENCH_LAG_RATE, BENCH_LAG_SECONDS,
# BENCH_SCHEMA, BENCH_QUIET_PATIENCE adjust it; see bench/projections.py)
set -euo pipefail
cd "$(dirname "$0")/.."
make install-test >/dev/null
pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
exec .venv/bin/python bench/projections.py "$@"
