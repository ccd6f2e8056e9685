"""EDXL: mlob's conversations as OASIS EDXL-RM 1.0 messages in an EDXL-DE 1.0 envelope, and
EDXL messages posted to mlob as the same commands the JSON API runs (docs/edxl.md).

Pure mapping in small modules — :mod:`api.edxl.vocab` (names, namespaces and the ``urn:mlob``
value lists), :mod:`api.edxl.xml` (the hardened parser and the OASIS schemas),
:mod:`api.edxl.out` (steps to messages), :mod:`api.edxl.envelope` (the DE envelope),
:mod:`api.edxl.inn` (messages to posted items) — and the routes in :mod:`api.edxl.routes`.
"""
