"""Failover figures (issue 20): the outage window when the primary dies and its standby is
promoted, and what an asynchronous standby loses in the same scenario.

Runs the scenario of tests/e2e/durability/failover.py (two throwaway PostgreSQL 15 clusters,
one ``mlob serve`` on the multi-host URL, 6 posting clients retrying with the same message id, 2
feed clients resuming after their last position; ``pg_ctl stop -m immediate`` on the primary,
then ``pg_ctl promote`` on the standby at once) RUNS times (default 3) with a synchronous
standby and RUNS times with an asynchronous one (``synchronous_standby_names`` empty), and
prints per run:

- outage: seconds from the primary's stop (``pg_ctl stop`` returned: it is gone) to the first
  201 of a post sent after it (the promotion itself is included; a real failover adds the time
  a failover manager takes to decide to promote);
- stop: seconds ``pg_ctl stop -m immediate -w`` took; promote: seconds ``pg_ctl promote -w``
  took after it;
- acked: messages answered 201; missing: acknowledged messages the new primary does not hold;
- 503/504: answers of each during the switch; feed: whether every feed client holds exactly
  the new primary's posted positions (no gap, no duplicate, nothing the new primary lacks).

    python bench/failover.py [RUNS]      (from the repository root, as root or postgres)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.durability.failover import Outcome, failover


def line(outcome: Outcome) -> str:
    posted = [p for p, _ in outcome.index]
    feeds_exact = all(
        [p for p in f if p >= (posted[0] if posted else 0)] == posted for f in outcome.feeds
    )
    count = {s: sum(1 for a in outcome.answers if a.status == s) for s in (503, 504, 0)}
    outage = f"{outcome.outage:.2f}" if outcome.outage is not None else "never"
    return (
        f"{'sync ' if outcome.synchronous else 'async'}  outage {outage} s  "
        f"stop {outcome.stopped_at - outcome.stop_asked_at:.2f} s  "
        f"promote {outcome.promoted_at - outcome.stopped_at:.2f} s  acked {len(outcome.acked)}  "
        f"missing {len(outcome.missing)}  503 {count[503]}  504 {count[504]}  "
        f"no-answer {count[0]}  feeds exact {feeds_exact}  "
        f"verify {'ok' if outcome.verify and outcome.verify.returncode == 0 else 'FAILED'}  "
        f"projections {'= rebuild' if outcome.rows_before == outcome.rows_rebuilt else 'DIFFER'}"
        f"  seconds {' '.join(f'{k} {v:.0f}' for k, v in outcome.seconds.items())}"
    )


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    for synchronous in (True, False):
        for _ in range(runs):
            print(line(failover(synchronous=synchronous)), flush=True)


if __name__ == "__main__":
    main()
