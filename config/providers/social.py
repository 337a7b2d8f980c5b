"""Definitions of the social providers: Instagram, Facebook, X, LinkedIn and TikTok."""

from __future__ import annotations

from config.providers.model import (
    Auth,
    ErrorIn200,
    Errors,
    Pagination,
    ProviderDefinition,
    RateLimits,
    TestCall,
    Token,
)

#: Meta's Graph error object and cursor paging, shared by Instagram and Facebook.
_GRAPH_ERRORS = Errors(message=("error.message",), code=("error.code",))
_GRAPH_PAGES = Pagination(style="cursor", cursor_param="after", next="paging.cursors.after", page_size=100)
#: Meta sends JSON usage headers, no limit/remaining pair.
_GRAPH_LIMITS = RateLimits(limit=(), remaining=())

INSTAGRAM = ProviderDefinition(
    id="instagram", name="Instagram Graph API", base_url="https://graph.instagram.com/v25.0",
    auth=Auth(mode="bearer", field="access_token"),
    rate_limits=_GRAPH_LIMITS, errors=_GRAPH_ERRORS, pagination=_GRAPH_PAGES,
    test_connection=(TestCall(path="/me", params={"fields": "id,username"}, proves="id",
                              description="The token's account."),),
    docs_url="https://developers.facebook.com/docs/instagram-platform",
)

FACEBOOK = ProviderDefinition(
    id="facebook", name="Facebook Graph API", base_url="https://graph.facebook.com/v25.0",
    auth=Auth(mode="bearer", field="access_token"),
    rate_limits=_GRAPH_LIMITS, errors=_GRAPH_ERRORS, pagination=_GRAPH_PAGES,
    test_connection=(TestCall(path="/{page_id}", params={"fields": "id,name"}, proves="id",
                              description="The Page, read with the token."),),
    docs_url="https://developers.facebook.com/docs/pages-api",
)

X = ProviderDefinition(
    id="x", name="X API v2", base_url="https://api.x.com",
    auth=Auth(mode="oauth2", field="access_token"),
    token=Token(url="https://api.x.com/2/oauth2/token", client_auth="basic"),
    rate_limits=RateLimits(limit=("x-rate-limit-limit",), remaining=("x-rate-limit-remaining",),
                           reset=("x-rate-limit-reset",), reset_unit="epoch"),
    errors=Errors(message=("detail", "errors[0].message", "title"), code=("type", "errors[0].code")),
    pagination=Pagination(style="cursor", limit_param="max_results", cursor_param="pagination_token",
                          next="meta.next_token", page_size=100),
    test_connection=(TestCall(path="/2/users/me", proves="data.id", description="The authenticated user."),),
    docs_url="https://docs.x.com/x-api/introduction",
)

LINKEDIN = ProviderDefinition(
    id="linkedin", name="LinkedIn API", base_url="https://api.linkedin.com",
    auth=Auth(mode="oauth2", field="access_token"),
    headers={"LinkedIn-Version": "202607", "X-Restli-Protocol-Version": "2.0.0"},
    token=Token(url="https://www.linkedin.com/oauth/v2/accessToken"),
    # No rate-limit headers at LinkedIn: daily quotas reset at midnight UTC (the client's quirk).
    rate_limits=RateLimits(limit=(), remaining=()),
    errors=Errors(message=("message",), code=("code", "serviceErrorCode")),
    pagination=Pagination(style="offset", limit_param="count", cursor_param="start", items="elements",
                          page_size=100),
    test_connection=(
        TestCall(path="/rest/organizationAcls", params={"q": "roleAssignee", "state": "APPROVED", "count": "100"},
                 proves="elements", requires=("organization_id",),
                 description="Pages this member administers (checks the token and the page role)."),
        TestCall(path="/v2/userinfo", proves="sub", description="The signed-in member (OpenID Connect)."),
    ),
    docs_url="https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api",
    integration_docs={"linkedin_sales": "https://learn.microsoft.com/en-us/linkedin/sales/"},
)

TIKTOK = ProviderDefinition(
    id="tiktok", name="TikTok for Business API", base_url="https://business-api.tiktok.com/open_api/v1.3",
    auth=Auth(mode="oauth2", field="access_token", header="Access-Token", scheme=""),
    # each refresh rotates the refresh token with a new 365-day lifetime: unused for a year, it lapses
    token=Token(url="https://business-api.tiktok.com/open_api/v1.3/tt_user/oauth2/refresh_token/",
                idle_expiry_days=365),
    rate_limits=RateLimits(),
    errors=Errors(message=("message",), code=("code",), in_200=ErrorIn200(path="code", ok=("0",))),
    pagination=Pagination(style="cursor", limit_param="max_count", cursor_param="cursor", next="data.cursor",
                          items="data.videos", page_size=20),
    test_connection=(TestCall(path="/business/get/",
                              params={"business_id": "{business_id}", "fields": '["display_name", "username"]'},
                              proves="data", description="The account's display name; an answer with "
                              "code != 0 is a failure even on HTTP 200."),),
    docs_url="https://business-api.tiktok.com/portal/docs",
)
