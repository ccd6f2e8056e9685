"""The HTTP and WebSocket entry layer: routes, input models, the error shape, the live feed.
It declares the service it needs (``api/ports.py``); ``mlob`` implements it.

May import: ``domain``, ``projections``. Never ``mlob``.
"""
