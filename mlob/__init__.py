"""The composition root and the rooms it wires, along the flow of a post:

- ``store/``   the store adapters: recorders, index, hash chain, codecs, the newest events in
  memory, LISTEN/NOTIFY;
- ``write/``   the write side: the application (use cases), its unit of work, the group writer;
- ``read/``    the read side's persistence: the projections' tables, picture checkpoints and the
  picture as of a moment;
- ``audit/``   tamper evidence (signed chain heads, ``mlob audit verify``) and the read-access log;
- ``runners/`` what runs in the background: projection runners, the board's clock, the picture
  checkpointer, the chain-head signer.

At the root: configuration (``config.py``), the schema migrations (``migrations/``), the wiring
(``bootstrap.py``), the service handed to the API (``service.py``), the ASGI entry
(``asgi.py``), the demo (``demo.py``) and the CLI (``cli.py``). The rooms import one way,
``runners`` -> ``audit`` -> ``read`` -> ``write`` -> ``store`` (an import-linter contract); none
imports the root's wiring, only ``config`` and ``migrations``.

May import: ``domain``, ``projections``, ``api``. Nothing imports ``mlob``.
"""
