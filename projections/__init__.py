"""The read side's pure computations: views of single aggregates (``views.py``), states per
clearance level (``levels.py``), the projections' specs (``specs.py``), the read models
(``readmodels.py``), the feed's routing (``routing.py``), the rows as of a moment
(``asof.py``), timelines (``timelines.py``) and statistics (``stats.py``); the newest events
this process wrote, held in memory for the live feed (``recent.py``); and the version of
derived data, one hash over this package and the domain modules it imports (``version.py``).

Everything here takes events, states or rows and returns rows: no store, no clock, no web.

May import: ``domain`` and the standard library. Never ``api`` or ``mlob``.
"""
