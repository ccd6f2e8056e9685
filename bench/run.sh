#!/usr/bin/env bash
# One command: bash bench/run.sh  (BENCH_SECONDS, BENCH_WORKERS, BENCH_CONNECTIONS adjust it)
set -euo pipefail
cd "$(dirname "$0")/.."
make install-test >/dev/null
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
exec .venv/bin/python bench/bench.py
