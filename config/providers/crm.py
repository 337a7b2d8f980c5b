"""Definitions of the CRM providers: HubSpot, Salesforce and Pipedrive."""

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

HUBSPOT = ProviderDefinition(
    id="hubspot", name="HubSpot API", base_url="https://api.hubapi.com",
    auth=Auth(mode="oauth2", field="access_token"),
    token=Token(url="https://api.hubapi.com/oauth/v3/token"),
    rate_limits=RateLimits(limit=("x-hubspot-ratelimit-max", "x-hubspot-ratelimit-daily"),
                           remaining=("x-hubspot-ratelimit-remaining", "x-hubspot-ratelimit-daily-remaining"),
                           reset=("x-hubspot-ratelimit-interval-milliseconds",), reset_unit="ms"),
    errors=Errors(message=("message",), code=("category", "errorType", "status")),
    pagination=Pagination(style="cursor", cursor_param="after", next="paging.next.after", items="results",
                          page_size=100),
    test_connection=(TestCall(path="/account-info/v3/details", proves="portalId",
                              description="The account behind the token."),),
    docs_url="https://developers.hubspot.com/docs/api/crm/understanding-the-crm",
    integration_docs={
        "hubspot_marketing": "https://developers.hubspot.com/docs/api/marketing/emails/marketing-emails"},
)

SALESFORCE = ProviderDefinition(
    id="salesforce", name="Salesforce REST API", base_url="{instance_url}/services/data/v66.0",
    auth=Auth(mode="oauth2", field="access_token"),
    token=Token(url="{instance_url}/services/oauth2/token", extra_fields=("instance_url",)),
    # Sforce-Limit-Info carries the org's 24-hour allocation (the client's quirk parses it).
    rate_limits=RateLimits(limit=(), remaining=()),
    errors=Errors(message=("[0].message", "error_description"), code=("[0].errorCode", "error")),
    pagination=Pagination(style="next_link", next="nextRecordsUrl", items="records", page_size=2000),
    test_connection=(TestCall(path="/limits", proves="DailyApiRequests",
                              description="Org limits, incl. DailyApiRequests remaining."),),
    docs_url="https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/",
)

PIPEDRIVE = ProviderDefinition(
    id="pipedrive", name="Pipedrive API", base_url="https://api.pipedrive.com",
    auth=Auth(mode="header", field="api_token", header="x-api-token", scheme=""),
    rate_limits=RateLimits(reset=("x-ratelimit-reset",)),
    errors=Errors(message=("error", "error_info"), code=("errorCode", "code"),
                  in_200=ErrorIn200(path="success", error=("false",))),
    pagination=Pagination(style="cursor", cursor_param="cursor", next="additional_data.next_cursor",
                          page_size=500),
    test_connection=(TestCall(path="/v1/users/me", proves="data.id", description="The token's user and company."),),
    docs_url="https://developers.pipedrive.com/docs/api/v1",
)
