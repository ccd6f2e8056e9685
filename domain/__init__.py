"""The domain: pure rules and types. The aggregates and their events, the law as data (kinds,
rights, reference data), the one access policy, and the write model's vocabulary (posts,
commands, handlers, the recorded event, refusals).

May import: the standard library and ``eventsourcing.domain`` only; no web, database or
project package outside ``domain``.
"""
