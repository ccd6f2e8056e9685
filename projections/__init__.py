"""The read side's pure computations: views of single aggregates, states per clearance level,
the projections' specs, read models, and the feed's routing.

May import: ``domain``. Never ``api`` or ``mlob``.
"""
