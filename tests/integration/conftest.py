"""The integration tests' fixtures live in :mod:`tests.stack` (shared with ``tests/security``)."""

from tests.stack import Stack

__all__ = ["Stack"]
