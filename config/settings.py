"""Typed settings, read from ``SINTRA_*`` environment variables by :func:`get_settings`.

The environment is read here (:func:`environment`), not by pydantic-settings: that package loads every
settings source it has (dotenv, secrets, TOML, YAML, AWS/Azure/GCP, command line), about 1 MB of every
process, worker processes included (issue 12), for one source used. The rules are pydantic-settings' for
these settings: ``SINTRA_<field>`` in any case; a list or dict field is JSON, and a dict field also takes
one key per variable, ``SINTRA_<field>__<key>`` (merged over the JSON, keys lowercased); keyword
arguments win over the environment (a dict merged key by key).
"""

from __future__ import annotations

import json
import os
import typing
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from config.providers import root_base_path, root_token_path

#: Where the embedded defaults (SQLite file, OpenBao data, AppRole files) live.
DEFAULT_STATE_DIR = Path(".sintra")
#: Redis database used by the broker.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
#: Address of the OpenBao/Vault server started by ``make run``.
DEFAULT_VAULT_ADDR = "http://127.0.0.1:18210"


#: Environment variables of the settings: ``SINTRA_<field>``; ``SINTRA_<field>__<key>`` for a key of a dict field.
ENV_PREFIX, NESTED = "sintra_", "__"


class SettingsError(ValueError):
    """A settings variable that cannot be read (a list or dict field that is not JSON)."""


def _complex(annotation: Any) -> bool:
    """Whether a field's values come as JSON: a list or dict (also inside an optional)."""
    origin = typing.get_origin(annotation)
    if origin in (list, dict, set, tuple):
        return True
    return any(_complex(a) for a in typing.get_args(annotation)) if origin is not Literal else False


def _merged(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated with ``over``, dicts merged key by key."""
    out = dict(base)
    for key, value in over.items():
        out[key] = (_merged(out[key], value) if isinstance(value, Mapping) and isinstance(out.get(key), dict)
                    else value)
    return out


def environment(fields: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The values of ``fields`` (name -> pydantic field info) set in ``environ`` (default: the process's)."""
    env = {k.lower(): v for k, v in (os.environ if environ is None else environ).items()
           if k.lower().startswith(ENV_PREFIX)}
    values: dict[str, Any] = {}
    for name, info in fields.items():
        var = ENV_PREFIX + name
        is_complex = _complex(info.annotation)
        if var in env:
            if is_complex:
                try:
                    values[name] = json.loads(env[var])
                except ValueError:
                    raise SettingsError(f'error parsing value for field "{name}" from the environment '
                                        f"({var.upper()}: JSON expected)") from None
            else:
                values[name] = env[var]
        if not is_complex:
            continue
        for key in sorted(k for k in env if k.startswith(var + NESTED)):
            *path, last = key[len(var + NESTED):].split(NESTED)
            if not last:
                continue
            target = values.setdefault(name, {})
            for part in path:
                target = target.setdefault(part, {}) if isinstance(target, dict) else {}
            if isinstance(target, dict):
                target[last] = env[key]
    return values


class Settings(BaseModel):
    """Every knob of Sintra; each field is ``SINTRA_<NAME>`` in the environment (keyword arguments win)."""

    model_config = ConfigDict(extra="ignore", validate_default=True, arbitrary_types_allowed=True)

    def __init__(self, **values: Any) -> None:
        super().__init__(**_merged(environment(type(self).model_fields), values))

    env: Literal["dev", "test", "prod"] = "dev"
    state_dir: Path = DEFAULT_STATE_DIR
    redis_url: str = DEFAULT_REDIS_URL
    #: SQLAlchemy URL; empty means the embedded SQLite file ``<state_dir>/sintra.db``.
    database_url: str = ""
    vault_addr: str = DEFAULT_VAULT_ADDR
    #: KV v2 mount holding credentials.
    vault_mount: str = "secret"
    #: AppRole login of this process (``role_id``/``secret_id``); empty means "read <approle_dir>/<role>.json".
    vault_role_id: str = ""
    vault_secret_id: SecretStr = SecretStr("")
    #: Where this process finds ``<identity>.json`` (default ``<state_dir>/vault``; compose: ``/run/secrets``).
    vault_approle_dir: Path | None = None
    #: Networks (CIDRs) every AppRole secret_id and token is bound to at provisioning; empty: unbound.
    vault_bound_cidrs: list[str] = Field(default_factory=list)
    #: Token for provisioning only (root in tests); never used by the API or workers at run time.
    vault_admin_token: SecretStr = SecretStr("")
    log_format: Literal["console", "json"] = "console"
    log_level: str = "INFO"
    #: One origin serving every provider (the simulator, a proxy): each provider's base and token URL is
    #: derived from it and the provider definition (``<root>/<provider><path of the real URL>``).
    provider_root: str = ""
    #: Per provider base URL override, winning over the root, e.g.
    #: ``SINTRA_PROVIDER_URLS__MAILCHIMP=http://proxy:8100/mc`` (``<provider>_token``: token URL).
    provider_urls: dict[str, str] = Field(default_factory=dict)
    #: Provider HTTP timeout in seconds.
    provider_timeout: float = 30.0
    #: First retry backoff in ms for transient failures (dramatiq's default is 15 s).
    retry_min_backoff_ms: int = 15_000
    retry_max_backoff_ms: int = 3_600_000
    #: How long ``POST .../connect`` waits for the worker before answering 202.
    connect_wait_seconds: float = 10.0
    #: How long an MCP tool call waits for its job before answering the job id (then: ``wait_job``).
    mcp_wait_seconds: float = Field(default=20.0, ge=0, le=300)
    #: Seconds a worker keeps an integration's credentials in memory (0: read Vault for every job).
    credential_cache_seconds: float = 60.0
    #: Poll interval of the Redis consumer when idle (dramatiq default 1000 ms; see QUEUES.md §2.5).
    worker_idle_ms: int = 100
    #: Jobs one worker process runs at once (``python -m workers``: greenlets, so most of them wait on a
    #: provider without holding a thread); the process's provider-call concurrency limit.
    worker_concurrency: int = Field(default=256, ge=1, le=4096)
    #: Database connections a worker process keeps (its jobs hold one for a statement at a time, so a
    #: few serve hundreds of jobs in flight), plus one each for its heartbeat and relay/sweeper loops.
    worker_db_connections: int = Field(default=8, ge=1, le=200)
    #: The message transport: ``redis://...`` (default: ``redis_url``) or ``amqp://...`` (RabbitMQ).
    broker_url: str = ""
    #: Seconds between a worker process's heartbeats; each renews the leases of its running jobs.
    heartbeat_seconds: float = 3.0
    #: A running job whose worker has not renewed its lease for this long is taken over (resumed elsewhere).
    lease_seconds: float = 15.0
    #: Seconds between sweeps for expired leases, lost messages and finished workflows.
    sweep_seconds: float = 2.0
    #: Seconds between outbox relay passes (retries and messages the API could not send).
    relay_seconds: float = 0.5
    #: How long the relay leaves a new job to the API's own immediate send before sending it itself.
    dispatch_grace_seconds: float = 5.0
    #: A queued job whose message is neither in the queue nor started after this long is sent again.
    stale_message_seconds: float = 60.0
    #: How long a job keeps waiting on a provider's 429/Retry-After before it fails (per agent override
    #: in the catalog); these waits do not spend the retry budget of failures.
    rate_limit_budget_seconds: float = 900.0
    #: How long a worker retries its own bookkeeping while the database is unreachable.
    db_outage_seconds: float = 120.0
    #: A job whose worker died this many times is failed instead of being run again (a poison job).
    max_worker_losses: int = 5
    #: Seconds between health checks of each connected integration, run by the scheduler (0: none).
    health_check_seconds: int = Field(default=86_400, ge=0)
    #: Per provider, days after which an unused refresh token lapses, where the org sets that policy
    #: (e.g. ``SINTRA_OAUTH_IDLE_EXPIRY_DAYS__SALESFORCE=90``); wins over the provider definition.
    oauth_idle_expiry_days: dict[str, int] = Field(default_factory=dict)
    #: Most credential sets a worker keeps in memory (least recently used evicted).
    credential_cache_size: int = 1000
    #: Key that signs the console's session cookies (empty: a random one kept in ``<state_dir>/console_secret``).
    console_secret: SecretStr = SecretStr("")
    #: Largest API request body in bytes, refused with 413 before it is parsed or the key is checked.
    max_body_bytes: int = 1_048_576
    #: Largest ``params`` of a job or schedule, in bytes of JSON.
    max_params_bytes: int = 262_144
    #: API requests per minute: per key, per client address, and failed authentications per address.
    rate_limit_per_key: int = 3000
    rate_limit_per_ip: int = 6000
    auth_failures_per_ip: int = 30
    #: Webhook hosts allowed over http and on any address (operator's internal receivers); else https, public.
    webhook_allow_hosts: list[str] = Field(default_factory=list)
    #: Allow https webhooks to private (RFC 1918) addresses; loopback stays refused unless in the allow-list.
    webhook_allow_private: bool = False
    #: First retry delay of a failed webhook delivery (doubles per attempt), and the number of attempts.
    webhook_retry_base_seconds: float = 30.0
    webhook_max_attempts: int = 8
    #: Seconds a delivery attempt may take.
    webhook_timeout_seconds: float = 10.0
    #: OpenTelemetry tracing: "" (off), "console" or "otlp" (then OTEL_EXPORTER_OTLP_* configure the target).
    tracing: Literal["", "console", "otlp"] = ""

    @field_validator("provider_urls")
    @classmethod
    def _lower_keys(cls, value: dict[str, str]) -> dict[str, str]:
        return {k.lower(): v.rstrip("/") for k, v in value.items()}

    @field_validator("oauth_idle_expiry_days")
    @classmethod
    def _lower_provider_keys(cls, value: dict[str, int]) -> dict[str, int]:
        return {k.lower(): v for k, v in value.items()}

    @field_validator("provider_root")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _json_logs_in_prod(self) -> Settings:
        if self.env == "prod" and "log_format" not in self.model_fields_set:
            self.log_format = "json"  # console for people, JSON for log pipelines
        return self

    def provider_url(self, provider: str) -> str | None:
        """The operator's base URL for ``provider`` (override, else derived from the root), or None: the real one."""
        if override := self.provider_urls.get(provider):
            return override
        return self.provider_root + root_base_path(provider) if self.provider_root else None

    def provider_token_url(self, provider: str) -> str | None:
        """The operator's token URL for ``provider`` (override, else derived from the root), or None."""
        if override := self.provider_urls.get(f"{provider}_token"):
            return override
        path = root_token_path(provider) if self.provider_root else None
        return self.provider_root + path if path else None

    @property
    def db_url(self) -> str:
        """The database URL in force: the configured one or the embedded SQLite file."""
        return self.database_url or f"sqlite:///{self.state_dir / 'sintra.db'}"

    @property
    def transport_url(self) -> str:
        """The broker URL in force: ``broker_url`` or the Redis URL."""
        return self.broker_url or self.redis_url

    @property
    def approle_dir(self) -> Path:
        """Directory of the per-identity AppRole files written by provisioning (mode 0600)."""
        return self.vault_approle_dir or self.state_dir / "vault"


@lru_cache
def get_settings() -> Settings:
    """Build the settings once per process from the environment."""
    return Settings()
