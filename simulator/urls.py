"""Where each provider lives inside the simulator: the base URL path its client uses, and its OAuth
token endpoint. ``settings_env(root)`` gives the ``SINTRA_PROVIDER_URLS__*`` variables that point the
real provider clients at a simulator running at ``root`` (``make run``, docker-compose, benchmarks)."""

from __future__ import annotations

#: provider -> base path of its API in the simulator (the client's base URL is root + this).
BASES: dict[str, str] = {
    "ahrefs": "/ahrefs/v3",
    "amplitude": "/amplitude/api",
    "brevo": "/brevo/v3",
    "copy_ai": "/copy_ai/api",
    "facebook": "/facebook/v25.0",
    "freshdesk": "/freshdesk/api/v2",
    "google_analytics": "/google_analytics",
    "google_search_console": "/google_search_console",
    "grammarly": "/grammarly/ecosystem/api",
    "hubspot": "/hubspot",
    "instagram": "/instagram/v25.0",
    "intercom": "/intercom",
    "jasper": "/jasper",
    "linkedin": "/linkedin",
    "mailchimp": "/mailchimp/3.0",
    "mixpanel": "/mixpanel/api",
    "pipedrive": "/pipedrive",
    "salesforce": "/salesforce/services/data/v66.0",
    "semrush": "/semrush",
    "sendgrid": "/sendgrid",
    "tiktok": "/tiktok/open_api/v1.3",
    "x": "/x",
    "zendesk": "/zendesk/api/v2",
}

#: provider -> OAuth token endpoint path in the simulator (OAuth 2.0 providers only).
TOKENS: dict[str, str] = {
    "google_analytics": "/google_analytics/token",
    "google_search_console": "/google_search_console/token",
    "grammarly": "/grammarly/v4/api/oauth2/token",
    "hubspot": "/hubspot/oauth/v3/token",
    "linkedin": "/linkedin/oauth/v2/accessToken",
    "salesforce": "/salesforce/services/oauth2/token",
    "tiktok": "/tiktok/open_api/v1.3/tt_user/oauth2/refresh_token/",
    "x": "/x/2/oauth2/token",
}


def provider_urls(root: str) -> dict[str, str]:
    """The ``provider_urls`` setting for a simulator at ``root``."""
    root = root.rstrip("/")
    return {**{p: root + path for p, path in BASES.items()},
            **{f"{p}_token": root + path for p, path in TOKENS.items()}}


def settings_env(root: str) -> dict[str, str]:
    """The same as environment variables."""
    return {f"SINTRA_PROVIDER_URLS__{key.upper()}": url for key, url in provider_urls(root).items()}
