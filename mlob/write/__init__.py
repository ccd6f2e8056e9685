"""The write side: the application whose methods are mlob's use cases, and the group writer
that commits every append and is the unit of work each append runs on.

A post (domain/commands.py) goes ``GroupWriter.post_async`` (or ``MlobApplication.post``) ->
the writer thread -> ``domain.posting.execute`` on the writer as its unit of work -> one commit
through the recorder (``mlob.store.recorders``), which returns what it inserted; the commit
keeps those events for this process's readers (``projections.recent``) and answers each append
with its receipt.

May import: ``domain``, ``projections`` (pure read-side folding), ``mlob.store``,
``mlob.config``, ``mlob.migrations``, and of ``api`` only ``api.ports`` (the failures it answers
with). Never the rest of ``api`` or the read side's rooms (``mlob.read``,
``mlob.audit``, ``mlob.runners``).
"""
