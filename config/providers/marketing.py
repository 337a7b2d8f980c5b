"""Definitions of the e-mail marketing providers: Mailchimp, Brevo and SendGrid."""

from __future__ import annotations

from config.providers.model import NO_LIMIT_HEADERS, Auth, Errors, Pagination, ProviderDefinition, RateLimits, TestCall

MAILCHIMP = ProviderDefinition(
    id="mailchimp", name="Mailchimp Marketing API", base_url="https://{dc}.api.mailchimp.com/3.0",
    # Any user name; the API key is the password (its "-us21" suffix names the datacenter).
    auth=Auth(mode="basic", username="sintra", password="{api_key}"),
    # No rate-limit headers: Mailchimp caps concurrency at 10 connections.
    rate_limits=NO_LIMIT_HEADERS,
    # problem+json: the title names the error, ``errors`` lists the fields at fault
    errors=Errors(message=("detail", "title"), code=("title",), code_prefix=True, details="errors"),
    pagination=Pagination(style="offset", limit_param="count", cursor_param="offset", items="", page_size=1000),
    test_connection=(TestCall(path="/ping", proves="health_status", description="Health check with the API key."),),
    docs_url="https://mailchimp.com/developer/marketing/api/",
)

BREVO = ProviderDefinition(
    id="brevo", name="Brevo API v3", base_url="https://api.brevo.com/v3",
    auth=Auth.key_header("api-key"),
    headers={"accept": "application/json"},
    rate_limits=RateLimits(limit=("x-sib-ratelimit-limit",), remaining=("x-sib-ratelimit-remaining",),
                           reset=("x-sib-ratelimit-reset",)),
    errors=Errors(message=("message",), code=("code",), code_prefix=True),
    pagination=Pagination(style="offset", cursor_param="offset", items="", page_size=100),
    test_connection=(TestCall(path="/account", proves="email", description="The account, plan and credits."),),
    docs_url="https://developers.brevo.com/reference/getting-started-1",
)

SENDGRID = ProviderDefinition(
    id="sendgrid", name="Twilio SendGrid v3", base_url="https://api.sendgrid.com",
    auth=Auth(mode="bearer", field="api_key"),
    # Acting for a subuser when the integration names one.
    headers={"on-behalf-of": "{on_behalf_of}"},
    rate_limits=RateLimits(reset=("x-ratelimit-reset",), reset_unit="epoch"),
    errors=Errors(message=("errors[0].message",), code=("errors[0].field",), details="errors"),
    pagination=Pagination(style="cursor", limit_param="page_size", cursor_param="page_token",
                          next="_metadata.next", items="result", page_size=100),
    test_connection=(TestCall(path="/v3/scopes", proves="scopes", description="The scopes the key holds."),),
    docs_url="https://www.twilio.com/docs/sendgrid/api-reference",
)
