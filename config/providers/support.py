"""Definitions of the support providers: Zendesk, Intercom and Freshdesk."""

from __future__ import annotations

from config.providers.model import ACCEPT_JSON, Auth, Errors, Pagination, ProviderDefinition, RateLimits, TestCall

ZENDESK = ProviderDefinition(
    id="zendesk", name="Zendesk Support API", base_url="https://{subdomain}.zendesk.com/api/v2",
    auth=Auth(mode="basic", username="{email}/token", password="{api_token}"),
    headers=ACCEPT_JSON,
    rate_limits=RateLimits(limit=("x-rate-limit", "ratelimit-limit"),
                           remaining=("x-rate-limit-remaining", "ratelimit-remaining"),
                           reset=("ratelimit-reset",)),
    # a 429 is plain text
    errors=Errors(message=("description", "error.message", "error.title", "error"), code=("error",), plain_text=True),
    pagination=Pagination(style="cursor", limit_param="page[size]", cursor_param="page[after]",
                          next="meta.after_cursor", items="tickets", page_size=100),
    test_connection=(TestCall(path="/users/me.json", proves="user",
                              description="The token's user; an anonymous user (no id or role end-user) "
                                          "means bad credentials."),),
    docs_url="https://developer.zendesk.com/api-reference/",
)

INTERCOM = ProviderDefinition(
    id="intercom", name="Intercom REST API", base_url="https://api.intercom.io",
    auth=Auth(mode="bearer", field="access_token"),
    # Reporting and workflow exports need 2.15 or later.
    headers={"Intercom-Version": "2.15", "Accept": "application/json"},
    rate_limits=RateLimits(reset=("x-ratelimit-reset",), reset_unit="epoch"),
    # ``error.list``: every entry shown as ``code: message``
    errors=Errors(message=("errors[0].message", "message"), code=("errors[0].code",), details="errors",
                  detail_field="code"),
    pagination=Pagination(style="cursor", limit_param="per_page", cursor_param="starting_after",
                          next="pages.next.starting_after", page_size=150),
    test_connection=(TestCall(path="/me", proves="id", description="The admin and workspace behind the token."),),
    docs_url="https://developers.intercom.com/docs/references/rest-api/api.intercom.io",
)

FRESHDESK = ProviderDefinition(
    id="freshdesk", name="Freshdesk API v2", base_url="https://{domain}.freshdesk.com/api/v2",
    auth=Auth(mode="basic", username="{api_key}", password="X"),
    rate_limits=RateLimits(limit=("x-ratelimit-total",)),
    errors=Errors(message=("description", "message", "errors[0].message"), code=("code", "errors[0].code"),
                  details="errors"),
    pagination=Pagination(style="page", limit_param="per_page", cursor_param="page", next="link:next",
                          items="", page_size=100),
    test_connection=(TestCall(path="/agents/me", proves="id", description="The agent who owns the API key."),),
    docs_url="https://developers.freshdesk.com/api/",
)
