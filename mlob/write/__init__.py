"""The write side: the application whose methods are mlob's use cases, its one unit of work and
the group writer that commits every append.

A post (domain/commands.py) goes ``MlobApplication.post`` -> ``GroupWriter`` (writer thread)
-> ``domain.posting.execute`` on a :class:`~mlob.write.unit.UnitOfWork` -> one commit through
the recorder (``mlob.store.recorders``), which returns what it inserted; the commit keeps those
events for this process's readers (``projections.recent``) and answers each append with its
receipt.

May import: ``domain``, ``projections`` (pure read-side folding), ``mlob.store``,
``mlob.config``, ``mlob.migrations``. Never ``api`` or the read side's rooms (``mlob.read``,
``mlob.audit``, ``mlob.runners``).
"""
