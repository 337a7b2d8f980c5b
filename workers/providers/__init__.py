"""Provider clients by provider name; a provider without a client here is 'not implemented yet'."""

from __future__ import annotations

from importlib import import_module

from workers.providers.base import ProviderClient

#: provider name -> "module:Class" of its client.
CLIENTS: dict[str, str] = {
    "mailchimp": "workers.providers.mailchimp:MailchimpClient",
    "instagram": "workers.providers.instagram:InstagramClient",
}


def client_class(provider: str) -> type[ProviderClient] | None:
    """The client class of ``provider``, or None when Sintra has none yet."""
    target = CLIENTS.get(provider)
    if target is None:
        return None
    module, name = target.split(":")
    return getattr(import_module(module), name)  # type: ignore[no-any-return]
