"""Definitions of the SEO and content providers: Ahrefs, Semrush, Jasper, Copy.ai and Grammarly."""

from __future__ import annotations

from config.providers.model import (
    ACCEPT_JSON, NO_LIMIT_HEADERS, Auth, ErrorIn200, Errors, Pagination, ProviderDefinition, RateLimits, TestCall,
    Token,
)

AHREFS = ProviderDefinition(
    id="ahrefs", name="Ahrefs API v3", base_url="https://api.ahrefs.com/v3",
    auth=Auth(mode="bearer", field="api_key"),
    headers=ACCEPT_JSON,
    rate_limits=NO_LIMIT_HEADERS,
    errors=Errors(message=("error",)),
    pagination=Pagination(style="offset", cursor_param="offset", items="", page_size=1000),
    test_connection=(TestCall(path="/subscription-info/limits-and-usage", proves="limits_and_usage",
                              description="Plan limits and units used; costs no units."),),
    docs_url="https://docs.ahrefs.com/docs/api/reference/introduction",
)

SEMRUSH = ProviderDefinition(
    id="semrush", name="Semrush API", base_url="https://api.semrush.com",
    auth=Auth(mode="query", field="api_key", param="key"),
    rate_limits=NO_LIMIT_HEADERS,
    # Reports answer plain text ``ERROR nn :: TEXT`` (the client parses it); the Projects API answers JSON.
    errors=Errors(message=("message",), code=("code",), plain_text=True),
    pagination=Pagination(style="offset", limit_param="display_limit", cursor_param="display_offset", items="",
                          page_size=10_000),
    test_connection=(TestCall(path="https://www.semrush.com/users/countapiunits.html",
                              description="Remaining API units as plain text; costs no units (on the www host)."),),
    docs_url="https://developer.semrush.com/api/",
)

JASPER = ProviderDefinition(
    id="jasper", name="Jasper API", base_url="https://api.jasper.ai",
    auth=Auth.key_header("X-API-Key"),
    headers=ACCEPT_JSON,
    # Jasper's window is one minute: a 429 without Retry-After waits it out.
    rate_limits=RateLimits(default_delay=60.0),
    # Jasper's envelope lists every problem in ``errors``; framework bodies have message/error.
    errors=Errors(message=("errors[0].message", "errors[0]", "message"), code=("error", "resource"),
                  details="errors"),
    pagination=Pagination(style="page", limit_param="size", cursor_param="page", items="data", page_size=50),
    test_connection=(TestCall(path="/v1/tones", params={"size": "1"}, proves="data",
                              description="One brand voice of the workspace."),),
    docs_url="https://developers.jasper.ai/docs",
)

COPY_AI = ProviderDefinition(
    id="copy_ai", name="Copy.ai Workflow API", base_url="https://api.copy.ai/api",
    auth=Auth.key_header("x-copy-ai-api-key"),
    headers=ACCEPT_JSON,
    errors=Errors(message=("message", "error"), code=("errorCode",), code_prefix=True,
                  in_200=ErrorIn200(path="status", error=("error",))),
    pagination=Pagination(style="page", limit_param="size", cursor_param="page", items="data", page_size=100),
    test_connection=(TestCall(path="/webhook", params={"size": "1"}, proves="total",
                              description="The workspace's webhooks (cheap, spends no credits)."),),
    docs_url="https://docs.copy.ai/reference/workflow-api",
)

GRAMMARLY = ProviderDefinition(
    id="grammarly", name="Grammarly Enterprise APIs", base_url="https://api.grammarly.com/ecosystem/api",
    auth=Auth(mode="oauth2", field="access_token"),
    token=Token(url="https://auth.grammarly.com/v4/api/oauth2/token", grant_type="client_credentials"),
    # Grammarly recommends two seconds between retries after a 429 without Retry-After.
    rate_limits=RateLimits(default_delay=2.0),
    errors=Errors(message=("message", "error_description", "detail"), code=("error", "code")),
    test_connection=(TestCall(method="POST", token=True, proves="access_token",
                              description="Client-credentials token with the scopes the actions need "
                                          "(scores-api, ai-detection-api, plagiarism-api)"),),
    docs_url="https://developer.grammarly.com/",
)
