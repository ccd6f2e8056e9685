"""The store adapters: eventsourcing recorders for SQLite and PostgreSQL that also write the
event index, the hash chain and the message log (``recorders.py``, ``index.py``,
``chain.py``); the codecs (``transcoder.py``, ``statecodec.py``); the chain's verification
(``verify.py``); PostgreSQL LISTEN/NOTIFY between processes (``notify.py``). The newest
events this process wrote, held in memory for its readers, are a read model
(``projections/recent.py``).

May import: ``domain`` and the standard library, eventsourcing, psycopg. Not ``mlob.write`` or
any other room of ``mlob``.
"""
