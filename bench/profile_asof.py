"""Where an answer as of a moment goes: cProfile over bench/audit.py's ``picture_for`` for one
reader on one axis, on the store bench/audit.py loaded (schema ``bench_audit``; run that first:
it writes the picture checkpoints too). Also counts, per answer, the intervals looked into, the
index entries read, the events applied and the subjects touched.

    PYTHONPATH=$PWD .venv/bin/python bench/profile_asof.py   # PROFILE_AXIS=occurred,
    # PROFILE_READER=auditor, PROFILE_MOMENTS=10, PROFILE_TOP=40, PROFILE_SORT=tottime
"""

from __future__ import annotations

import cProfile
import os
import pstats
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import audit, common  # noqa: E402
from mlob.bootstrap import tune_runtime  # noqa: E402
from mlob.config import parse_database_url  # noqa: E402
from mlob.read import pictures  # noqa: E402
from mlob.read.readstore import open_read_store  # noqa: E402
from mlob.runners.projector import Projections  # noqa: E402
from mlob.service import Service  # noqa: E402
from mlob.write.application import MlobApplication  # noqa: E402
from projections.specs import PROJECTIONS  # noqa: E402

AXIS = os.environ.get("PROFILE_AXIS", "recorded")
READER = audit.READERS[os.environ.get("PROFILE_READER", "region")]
MOMENTS = int(os.environ.get("PROFILE_MOMENTS", "10"))
TOP = int(os.environ.get("PROFILE_TOP", "40"))
SORT = os.environ.get("PROFILE_SORT", "tottime")


class Counts:
    """Per answer: intervals, index entries, events applied, subjects touched."""

    def __init__(self) -> None:
        self.spans = self.entries = self.applied = self.touched = 0
        original_spans = pictures.spans
        original_entries = pictures.Replay.apply_entries
        original_page = pictures.Replay._apply_page

        def spans(*args: Any) -> Any:
            found = original_spans(*args)
            self.spans += len(found)
            return found

        def apply_entries(replay: pictures.Replay, entries: Any) -> None:
            self.entries += len(entries)
            original_entries(replay, entries)
            self.touched = len(replay.touched)

        def apply_page(replay: pictures.Replay, page: Any) -> None:
            before = replay.last
            original_page(replay, page)
            self.applied += sum(1 for n in page if before < n.id <= replay.last)

        pictures.spans = spans  # type: ignore[assignment]
        pictures.Replay.apply_entries = apply_entries  # type: ignore[method-assign]
        pictures.Replay._apply_page = apply_page  # type: ignore[method-assign]

    def take(self) -> dict[str, int]:
        found = {
            "spans": self.spans,
            "entries": self.entries,
            "applied~": self.applied,
            "touched": self.touched,
        }
        self.spans = self.entries = self.applied = self.touched = 0
        return found


def main() -> None:
    config = parse_database_url(common.database_url(audit.SCHEMA))
    tune_runtime()
    app = MlobApplication(config)
    store = open_read_store(config, [p.name for p in PROJECTIONS])
    service = Service(app)
    service.attach_projections(Projections(app, store, clock=lambda: datetime.now(UTC)))
    events = app.last_position()
    first, last = app.history(after=0, limit=1)[0], app.history(after=events - 1, limit=1)[0]
    if AXIS == "recorded":
        low, high = first.recorded_at, last.recorded_at
    else:
        with psycopg.connect(common.DSN) as conn:
            found = conn.execute(
                f'SELECT min(occurred_at), max(occurred_at) FROM "{audit.SCHEMA}".mlob_event_index'
            ).fetchone()
        assert found is not None
        low, high = found
    counts = Counts()
    audit.picture_as_of(service, high, AXIS, True, READER)  # warm the pool
    counts.take()
    rng = random.Random(2)
    moments = [low + (high - low) * rng.random() for _ in range(MOMENTS)]
    profile = cProfile.Profile()
    cpu_s = []
    for moment in moments:
        started = time.process_time()
        profile.enable()
        audit.picture_as_of(service, moment, AXIS, True, READER)
        profile.disable()
        cpu_s.append(time.process_time() - started)
        print(f"{moment.isoformat()} cpu {cpu_s[-1]:.3f} s {counts.take()}")
    print(
        f"{events:,} events, {AXIS} axis, {READER.org} {READER.role} {READER.clearance.value}: "
        f"CPU per answer p50 {statistics.median(cpu_s):.3f} s, mean {statistics.mean(cpu_s):.3f} s"
    )
    profile.dump_stats(os.environ.get("PROFILE_OUT", "/tmp/profile_asof.prof"))
    pstats.Stats(profile).sort_stats(SORT).print_stats(TOP)
    store.close()
    app.close()


if __name__ == "__main__":
    main()
