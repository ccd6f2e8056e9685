"""What auditors rely on beside the events: tamper evidence anchored outside the database (the
chain head signed with ``MLOB_AUDIT_KEY``, ``mlob audit verify`` over the chain, its format
switch and the picture checkpoints: ``tamper.py``) and the read-access log of classified reads
(``accesslog.py``).

May import: ``domain``, ``projections``, ``mlob.config``, ``mlob.store``, ``mlob.read``. Never
``api``, ``mlob.write`` or ``mlob.runners``.
"""
