#!/usr/bin/env bash
# One command: bash bench/feed.sh  (FEED_CLIENTS, FEED_PROCS, FEED_RATES, FEED_SECONDS,
# FEED_PROFILE, FEED_READER adjust it; see bench/feed.py)
set -euo pipefail
cd "$(dirname "$0")/.."
make install-test >/dev/null
pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
exec .venv/bin/python bench/feed.py "$@"
