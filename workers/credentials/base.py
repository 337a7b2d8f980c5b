"""Credentials as a worker holds them for one call, and the seam that loads them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import NoReturn, Protocol


class Credentials(Mapping[str, str]):
    """Read-only credential values whose ``repr`` and ``str`` never show a secret."""

    __slots__ = ("_values", "secret_fields", "version")

    def __init__(self, values: Mapping[str, str], *, secret_fields: frozenset[str], version: int = 0) -> None:
        self._values = dict(values)
        self.secret_fields = secret_fields
        self.version = version

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        shown = {k: ("***" if k in self.secret_fields else v) for k, v in self._values.items()}
        return f"Credentials({shown!r}, version={self.version})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:  # never pickled into a message or a cache by accident
        raise TypeError("Credentials cannot be pickled")

    def secret_values(self) -> list[str]:
        """The values of the secret fields (for the log redactor)."""
        return [v for k, v in self._values.items() if k in self.secret_fields and v]


class CredentialSource(Protocol):
    """Loads and saves one integration's credentials (Vault in production)."""

    def get(self, *, workspace: str, agent: str, integration: str, secret_fields: frozenset[str]) -> Credentials:
        """Return the stored credentials or raise ``CredentialsUnavailable``."""
        ...

    def update(self, *, workspace: str, agent: str, integration: str, values: Mapping[str, str],
               cas: int) -> int:
        """Write new values with check-and-set on version ``cas``; return the new version."""
        ...
