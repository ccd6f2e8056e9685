"""What runs in the background of a server or ``mlob worker``: the projection runners (one
active per projection across processes, under a lease), the board's clock, the picture
checkpointer and the signing of the chain head (``projector.py``).

May import: ``domain``, ``projections``, ``mlob.config``, ``mlob.store``, ``mlob.write``,
``mlob.read``, ``mlob.audit``. Never ``api``.
"""
