"""The store adapters: eventsourcing recorders for SQLite and PostgreSQL that also write the
event index, the hash chain and the message log; the codec; the chain's verification.

May import: ``domain`` and the standard library, eventsourcing, psycopg. Not ``mlob.write``.
"""
