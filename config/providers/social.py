"""Definitions of the social providers: Instagram, Facebook, X, LinkedIn and TikTok."""

from __future__ import annotations

from config.providers.model import (
    NO_LIMIT_HEADERS, Auth, ErrorIn200, Errors, LongLived, OAuthFlow, Pagination, ProviderDefinition, RateLimits,
    TestCall, Token,
)

#: Meta's Graph error object and cursor paging, shared by Instagram and Facebook.
_GRAPH_ERRORS = Errors(message=("error.message",), code=("error.code",))
_GRAPH_PAGES = Pagination(style="cursor", cursor_param="after", next="paging.cursors.after", page_size=100)
#: Instagram API with Instagram Login (the base URL is graph.instagram.com): the code gives a 1-hour token
#: (``data[0]`` of the answer, with the account's ``user_id``), traded for a 60-day one by ``ig_exchange_token``.
_IG_PUBLISH = ("instagram_business_content_publish",)
_IG_INSIGHTS = ("instagram_business_manage_insights",)
_IG_COMMENTS = ("instagram_business_manage_comments",)
INSTAGRAM_LOGIN = OAuthFlow(
    authorize_url="https://www.instagram.com/oauth/authorize", label="Instagram", scope_separator=",",
    scopes=("instagram_business_basic",),
    action_scopes={"publish_photo": _IG_PUBLISH, "publish_reel": _IG_PUBLISH, "publish_story": _IG_PUBLISH,
                   "publish_carousel": _IG_PUBLISH, "get_media_insights": _IG_INSIGHTS,
                   "get_account_insights": _IG_INSIGHTS, "list_comments": _IG_COMMENTS,
                   "reply_to_comment": _IG_COMMENTS, "hide_comment": _IG_COMMENTS, "delete_comment": _IG_COMMENTS},
    exchange_url="https://api.instagram.com/oauth/access_token", client_auth="body", answer_path="data[0]",
    answer_fields={"user_id": "ig_user_id"},
    long_lived=LongLived(url="https://graph.instagram.com/access_token", grant_type="ig_exchange_token",
                         token_param="access_token", client_id=False),
)
#: Facebook Login: the code gives a short-lived user token (about 2 hours), traded for a 60-day one by
#: ``fb_exchange_token`` at the same endpoint (both GET with the client secret in the query, as Meta documents).
_FB_POSTS = ("pages_manage_posts",)
_FB_TOKEN_URL = "https://graph.facebook.com/v25.0/oauth/access_token"
FACEBOOK_LOGIN = OAuthFlow(
    authorize_url="https://www.facebook.com/v25.0/dialog/oauth", label="Facebook", scope_separator=",",
    scopes=("pages_show_list", "pages_read_engagement"),
    action_scopes={"update_page_info": ("pages_manage_metadata",), "publish_page_post": _FB_POSTS,
                   "list_scheduled_posts": _FB_POSTS, "schedule_post": _FB_POSTS, "cancel_scheduled_post": _FB_POSTS,
                   "get_page_insights": ("read_insights",), "get_ads_insights": ("ads_read",)},
    exchange_url=_FB_TOKEN_URL, exchange_method="GET", client_auth="body",
    long_lived=LongLived(url=_FB_TOKEN_URL, grant_type="fb_exchange_token", token_param="fb_exchange_token"),
)


def _graph_api(provider: str, name: str, base_url: str, test: TestCall, docs_url: str, oauth: OAuthFlow
               ) -> ProviderDefinition:
    """A Meta Graph API: a bearer user token, Graph errors, cursor paging, usage in JSON headers."""
    return ProviderDefinition(id=provider, name=name, base_url=base_url, auth=Auth(mode="bearer", field="access_token"),
                              rate_limits=NO_LIMIT_HEADERS, errors=_GRAPH_ERRORS, pagination=_GRAPH_PAGES,
                              test_connection=(test,), docs_url=docs_url, oauth=oauth)


INSTAGRAM = _graph_api(
    "instagram", "Instagram Graph API", "https://graph.instagram.com/v25.0",
    TestCall(path="/me", params={"fields": "id,username"}, proves="id", description="The token's account."),
    "https://developers.facebook.com/docs/instagram-platform", INSTAGRAM_LOGIN)

FACEBOOK = _graph_api(
    "facebook", "Facebook Graph API", "https://graph.facebook.com/v25.0",
    TestCall(path="/{page_id}", params={"fields": "id,name"}, proves="id",
             description="The Page, read with the token."),
    "https://developers.facebook.com/docs/pages-api", FACEBOOK_LOGIN)

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
    # OAuth 2.0 user context: PKCE (S256) is required; offline.access is what issues a refresh token
    oauth=OAuthFlow(authorize_url="https://x.com/i/oauth2/authorize", label="X", pkce="S256",
                    scopes=("tweet.read", "users.read", "offline.access"),
                    action_scopes={"publish_post": ("tweet.write", "media.write"),
                                   "publish_thread": ("tweet.write", "media.write")}),
)

LINKEDIN = ProviderDefinition(
    id="linkedin", name="LinkedIn API", base_url="https://api.linkedin.com",
    auth=Auth(mode="oauth2", field="access_token"),
    headers={"LinkedIn-Version": "202607", "X-Restli-Protocol-Version": "2.0.0"},
    token=Token(url="https://www.linkedin.com/oauth/v2/accessToken"),
    # No rate-limit headers at LinkedIn: daily quotas reset at midnight UTC (the client's quirk).
    rate_limits=NO_LIMIT_HEADERS,
    # API errors carry code/serviceErrorCode; the token endpoint answers OAuth error/error_description
    errors=Errors(message=("message", "error_description"), code=("code", "serviceErrorCode", "error"),
                  code_prefix=True),
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
    # 3-legged OAuth (no PKCE for web apps); openid+profile for the /v2/userinfo test call
    oauth=OAuthFlow(authorize_url="https://www.linkedin.com/oauth/v2/authorization", label="LinkedIn",
                     scopes=("openid", "profile"),
                    action_scopes={"publish_post": ("w_organization_social",),
                                   "publish_article": ("w_organization_social",),
                                   "get_post_analytics": ("r_organization_social",),
                                   "get_organization_statistics": ("rw_organization_admin",),
                                   "get_organization": ("rw_organization_admin",),
                                   "get_company_insights": ("r_organization_admin",)}),
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
                          items="data.videos", page_size=20, more="data.has_more"),
    test_connection=(TestCall(path="/business/get/",
                              params={"business_id": "{business_id}", "fields": '["display_name", "username"]'},
                              proves="data", description="The account's display name; an answer with "
                              "code != 0 is a failure even on HTTP 200."),),
    docs_url="https://business-api.tiktok.com/portal/docs",
    # TikTok Accounts API: consent on tiktok.com (the app id is ``client_key`` there), then the business
    # API's own token endpoint (JSON, the code as ``auth_code``, tokens inside the ``data`` envelope)
    oauth=OAuthFlow(authorize_url="https://www.tiktok.com/v2/auth/authorize/", label="TikTok", scope_separator=",",
                    client_id_param="client_key",
                    scopes=("user.info.basic", "user.info.username", "user.info.stats"),
                    action_scopes={"get_performance_analytics": ("video.insights",),
                                   "get_audience_insights": ("user.insights",),
                                   "list_videos": ("video.list", "video.insights")},
                    exchange_url="https://business-api.tiktok.com/open_api/v1.3/tt_user/oauth2/token/",
                    exchange_format="json", code_param="auth_code", answer_path="data",
                    answer_fields={"open_id": "business_id"}),
)
