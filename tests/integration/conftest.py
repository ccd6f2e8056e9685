"""The in-process API client fixture, ``api``, for every integration test (its home is
``api/conftest.py``, with the ``Api`` helper the tests import)."""

from tests.integration.api.conftest import api  # noqa: F401
