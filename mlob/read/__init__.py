"""The read side's persistence: the projections' tables in the store's own database (rows per
aggregate and clearance level, tracking, change records, board targets, picture checkpoints:
``readstore.py``) and the picture *as of* a moment, served from signed picture checkpoints plus
a replay of the events after them (``pictures.py``). What a row or a picture holds is computed
by ``projections`` (pure); this room only stores, loads and replays.

May import: ``domain``, ``projections``, ``mlob.config``, ``mlob.store``, ``mlob.write`` (the
application that reads the events). Never ``api``, ``mlob.audit`` or ``mlob.runners``.
"""
