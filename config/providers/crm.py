"""Definitions of the CRM providers: HubSpot, Salesforce and Pipedrive."""

from __future__ import annotations

from config.providers.model import (
    NO_LIMIT_HEADERS, Auth, ErrorIn200, Errors, OAuthFlow, Pagination, ProviderDefinition, RateLimits, TestCall,
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
    oauth=OAuthFlow(authorize_url="https://app.hubspot.com/oauth/authorize", label="HubSpot", scopes=("oauth",),
                    action_scopes={**dict.fromkeys(("create_deal", "update_deal"),
                                                   ("crm.objects.deals.read", "crm.objects.deals.write")),
                                   "list_deals": ("crm.objects.deals.read",),
                                   **dict.fromkeys(("create_contact", "update_contact", "batch_upsert_contacts"),
                                                   ("crm.objects.contacts.read", "crm.objects.contacts.write")),
                                   "search_contacts": ("crm.objects.contacts.read",),
                                   "list_email_events": ("content",),
                                   "list_email_engagements": ("sales-email-read",),
                                   "enroll_in_sequence": ("automation.sequences.enrollments.write",),
                                   **dict.fromkeys(("list_marketing_emails", "create_marketing_email",
                                                    "get_email_statistics"), ("content",)),
                                   "list_lists": ("crm.lists.read",),
                                   **dict.fromkeys(("create_list", "add_to_list"),
                                                   ("crm.lists.read", "crm.lists.write")),
                                   **dict.fromkeys(("list_workflows", "enroll_in_workflow"), ("automation",)),
                                   "send_single_email": ("marketing-email",)}),
)

SALESFORCE = ProviderDefinition(
    id="salesforce", name="Salesforce REST API", base_url="{instance_url}/services/data/v66.0",
    auth=Auth(mode="oauth2", field="access_token"),
    token=Token(url="{instance_url}/services/oauth2/token", extra_fields=("instance_url",)),
    # Sforce-Limit-Info carries the org's 24-hour allocation (the client's quirk parses it).
    rate_limits=NO_LIMIT_HEADERS,
    errors=Errors(message=("[0].message", "error_description"), code=("[0].errorCode", "error")),
    pagination=Pagination(style="next_link", next="nextRecordsUrl", items="records", page_size=2000),
    test_connection=(TestCall(path="/limits", proves="DailyApiRequests",
                              description="Org limits, incl. DailyApiRequests remaining."),),
    docs_url="https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/",
    # web-server flow at login.salesforce.com (or the configured My Domain); PKCE supported; the org's
    # instance_url comes back in the token answer and is checked like a configured one
    oauth=OAuthFlow(authorize_url="https://login.salesforce.com/services/oauth2/authorize", label="Salesforce",
                    pkce="S256",
                    scopes=("api", "refresh_token"),
                    exchange_url="https://login.salesforce.com/services/oauth2/token",
                    answer_fields={"instance_url": "instance_url"}, host_field="instance_url"),
)

PIPEDRIVE = ProviderDefinition(
    id="pipedrive", name="Pipedrive API", base_url="https://api.pipedrive.com",
    auth=Auth.key_header("x-api-token", "api_token"),
    rate_limits=RateLimits(reset=("x-ratelimit-reset",)),
    errors=Errors(message=("error", "error_info"), code=("errorCode", "code"),
                  in_200=ErrorIn200(path="success", error=("false",))),
    pagination=Pagination(style="cursor", cursor_param="cursor", next="additional_data.next_cursor",
                          page_size=500),
    test_connection=(TestCall(path="/v1/users/me", proves="data.id", description="The token's user and company."),),
    docs_url="https://developers.pipedrive.com/docs/api/v1",
)
