"""The HTTP and WebSocket entry layer, and only that: routes, input models, the error shape,
rendering, access checks through the one policy (``domain/policy.py``), the live feed. What an
answer computes is ``projections``' (read models, timelines, statistics); what it records is
the write side's, behind the service this layer declares (``api/ports.py``) and ``mlob``
implements.

May import: ``domain``, ``projections``. Never ``mlob``.
"""
