"""The demo with its projections caught up (the `views` fixture) for the audit tests."""

from tests.projections.conftest import views

__all__ = ["views"]
