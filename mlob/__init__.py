"""The composition root: configuration, the write side (``mlob.write``), the store adapters
(``mlob.store``), the projection runners and read store, the service handed to the API, the
demo and the CLI.

May import: ``domain``, ``projections``, ``api``. Nothing imports ``mlob``.
"""
