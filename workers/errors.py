"""One exception tree for everything that can go wrong while a worker runs a job.

::

    AgentError                      .kind          retried?
    ├── TransientError              "transient"    yes, with exponential backoff
    │   ├── ProviderUnavailable     "transient"    5xx, timeout, network error
    │   ├── RateLimited             "rate_limited" yes, after the provider's own delay (time budget)
    │   ├── VaultUnavailable        "transient"    Vault sealed, down or slow
    │   └── TimeLimitError          "time_limit"   the attempt ran past the agent's time limit
    ├── JobCancelled                "cancelled"    no: cancelled while running
    └── PermanentError              "permanent"    no
        ├── AuthError               "auth"         credentials rejected: reconnect needed
        │   └── GrantRevoked        "auth"         the OAuth grant is revoked or expired: needs_reconnect
        ├── ProviderRejected        "permanent"    any other 4xx
        ├── MalformedResponse       "permanent"    provider answered something we cannot read
        ├── CredentialsUnavailable  "disconnected" not configured, disconnected or deleted in Vault
        │   ├── InvalidCredentials  "auth"         a stored value breaks its field's pattern: reconfigure
        │   └── NeedsReconnect      "needs_reconnect" the grant was found revoked: fail fast, no call
        ├── IntegrationUnavailable  "unavailable"  restricted or not implemented integration/action
        └── InvalidPayload          "invalid"      a message or parameters that fail validation

Messages are built by us from status codes and the provider's error text; :class:`AgentError` redacts
message and provider code when it is built (registered secrets in any encoding, secret-looking values,
query strings), so no client has to remember to. Translate at the boundary with
``raise NewError(...) from None`` so a foreign exception's text does not travel in tracebacks.
"""

from __future__ import annotations

from config.logging import redact_text

#: Longest provider error code kept (codes are short identifiers; anything longer is an echo).
MAX_CODE = 80


class AgentError(Exception):
    """Root of Sintra's worker errors."""

    kind = "error"

    def __init__(self, message: str, *, status: int | None = None, provider_code: str | None = None) -> None:
        # by construction: whatever a client put in the text (a provider's answer echoing a key, a URL
        # with a token), the error that is stored, returned, logged and queued is redacted
        message = redact_text(str(message))
        super().__init__(message)
        self.message = message
        self.status = status
        self.provider_code = None if provider_code is None else redact_text(str(provider_code))[:MAX_CODE]

    def as_dict(self) -> dict[str, object]:
        """The error as stored on the job and returned by the API."""
        out: dict[str, object] = {"type": self.kind, "class": type(self).__name__, "message": self.message}
        if self.status is not None:
            out["status"] = self.status
        if self.provider_code is not None:
            out["provider_code"] = self.provider_code
        return out


class TransientError(AgentError):
    """A failure that may go away: retry with backoff."""

    kind = "transient"


class ProviderUnavailable(TransientError):
    """The provider answered 5xx, timed out or could not be reached."""


class RateLimited(TransientError):
    """The provider throttled us; retry after ``retry_after`` seconds."""

    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after: float, status: int | None = 429,
                 provider_code: str | None = None, shared_pause: bool = False) -> None:
        super().__init__(message, status=status, provider_code=provider_code)
        self.retry_after = retry_after
        #: True when no call was made: the account was already paused by another job's 429.
        self.shared_pause = shared_pause

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "retry_after": self.retry_after}


class VaultUnavailable(TransientError):
    """Vault is sealed, down or slow."""


class TimeLimitError(TransientError):
    """The attempt ran past the agent's time limit (retried; resumes from the step log)."""

    kind = "time_limit"


class JobCancelled(AgentError):
    """Someone cancelled the job while it ran; it stopped between steps or provider calls."""

    kind = "cancelled"


class PermanentError(AgentError):
    """A failure that retrying will not fix."""

    kind = "permanent"


class AuthError(PermanentError):
    """The provider rejected the credentials: the user must reconnect."""

    kind = "auth"


class GrantRevoked(AuthError):
    """The provider refused the OAuth grant itself (invalid_grant, or 401 after a refresh): reconnect."""


class ProviderRejected(PermanentError):
    """The provider refused the request (4xx other than auth and throttling)."""


class MalformedResponse(PermanentError):
    """The provider's answer was not in the documented shape."""


class CredentialsUnavailable(PermanentError):
    """No credentials: the integration is not configured, or was disconnected."""

    kind = "disconnected"


class IntegrationUnavailable(PermanentError):
    """The integration or action is restricted, or not implemented in Sintra yet."""

    kind = "unavailable"


class InvalidCredentials(CredentialsUnavailable, IntegrationUnavailable):
    """A stored credential value breaks its field's declared pattern (e.g. a non-Salesforce host)."""

    kind = "auth"


class NeedsReconnect(CredentialsUnavailable):
    """The integration's grant was found revoked or expired; the job fails without calling the provider."""

    kind = "needs_reconnect"


class InvalidPayload(PermanentError):
    """A queue message or job parameters failed validation."""

    kind = "invalid"
