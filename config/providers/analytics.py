"""Definitions of the analytics providers: Google Analytics 4, Search Console, Amplitude and Mixpanel."""

from __future__ import annotations

from config.providers.model import (
    NO_LIMIT_HEADERS, Auth, ErrorIn200, Errors, OAuthFlow, Pagination, ProviderDefinition, TestCall,
    Token,
)

#: Google's token endpoint and error object (``error.message``, ``error.status``), shared by both APIs.
# Google: "the refresh token has not been used for six months" ends the grant
_GOOGLE_TOKEN = Token(url="https://oauth2.googleapis.com/token", idle_expiry_days=180)
_GOOGLE_ERRORS = Errors(message=("error.message", "error_description"), code=("error.status", "error"))
#: Google sends no rate-limit headers: quota errors only (the client backs off on its own).
_GOOGLE_LIMITS = NO_LIMIT_HEADERS
#: Google's consent page: ``access_type=offline`` with ``prompt=consent`` so a refresh token is issued
#: every time (Google omits it on a repeated consent otherwise); PKCE S256 is supported.
_GOOGLE_AUTHORIZE = "https://accounts.google.com/o/oauth2/v2/auth"
_GOOGLE_PARAMS = {"access_type": "offline", "prompt": "consent", "include_granted_scopes": "true"}
_WEBMASTERS = "https://www.googleapis.com/auth/webmasters"

GOOGLE_ANALYTICS = ProviderDefinition(
    id="google_analytics", name="Google Analytics Data API", base_url="https://analyticsdata.googleapis.com",
    auth=Auth(mode="oauth2", field="access_token"), token=_GOOGLE_TOKEN,
    rate_limits=_GOOGLE_LIMITS, errors=_GOOGLE_ERRORS,
    pagination=Pagination(style="offset", cursor_param="offset", items="rows", page_size=100_000),
    test_connection=(TestCall(path="/v1beta/properties/{property_id}/metadata", proves="name",
                              description="Dimensions and metrics of the property (Core quota)."),),
    docs_url="https://developers.google.com/analytics/devguides/reporting/data/v1",
    oauth=OAuthFlow(authorize_url=_GOOGLE_AUTHORIZE, label="Google", pkce="S256", extra_params=_GOOGLE_PARAMS,
                    scopes=("https://www.googleapis.com/auth/analytics.readonly",)),
)

GOOGLE_SEARCH_CONSOLE = ProviderDefinition(
    id="google_search_console", name="Google Search Console API", base_url="https://searchconsole.googleapis.com",
    auth=Auth(mode="oauth2", field="access_token"), token=_GOOGLE_TOKEN,
    rate_limits=_GOOGLE_LIMITS, errors=_GOOGLE_ERRORS,
    pagination=Pagination(style="offset", limit_param="rowLimit", cursor_param="startRow", items="rows",
                          page_size=25_000),
    test_connection=(TestCall(path="/webmasters/v3/sites", proves="siteEntry",
                              description="Properties the user can see, with permission levels."),),
    docs_url="https://developers.google.com/webmaster-tools/v1/api_reference_index",
    oauth=OAuthFlow(authorize_url=_GOOGLE_AUTHORIZE, label="Google", pkce="S256", extra_params=_GOOGLE_PARAMS,
                    scopes=(_WEBMASTERS + ".readonly",), action_scopes={"submit_sitemap": (_WEBMASTERS,)}),
)

AMPLITUDE = ProviderDefinition(
    id="amplitude", name="Amplitude Analytics APIs", base_url="https://amplitude.com/api",
    auth=Auth(mode="basic", username="{api_key}", password="{secret_key}"),
    # No rate-limit headers at Amplitude.
    rate_limits=NO_LIMIT_HEADERS,
    errors=Errors(message=("error.message", "error", "message"), code=("error.type",),
                  in_200=ErrorIn200(path="error", ok=()), plain_text=True),
    pagination=Pagination(style="offset", cursor_param="offset", items="events", page_size=1000),
    test_connection=(TestCall(path="/2/events/list", proves="data", description="The project's event types."),),
    docs_url="https://amplitude.com/docs/apis/analytics/dashboard-rest",
)

MIXPANEL = ProviderDefinition(
    id="mixpanel", name="Mixpanel Query API", base_url="https://mixpanel.com/api",
    auth=Auth(mode="basic", username="{service_account_username}", password="{service_account_secret}"),
    rate_limits=NO_LIMIT_HEADERS,
    errors=Errors(message=("error",), in_200=ErrorIn200(path="status", error=("error",))),
    pagination=Pagination(style="page", limit_param="page_size", cursor_param="page", next="session_id",
                          items="results", page_size=1000),
    test_connection=(TestCall(path="/app/me", proves="results", description="The service account and its projects."),),
    docs_url="https://developer.mixpanel.com/reference/query-api",
)
