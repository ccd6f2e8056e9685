"""The tests, in tiers: ``unit`` (domain and read models, in memory), ``integration`` (store,
API and CLI in process), ``e2e`` (server processes, browser, crashes). See the README."""

from pathlib import Path

#: The repository root, for paths that do not move with a test.
ROOT = Path(__file__).resolve().parent.parent
