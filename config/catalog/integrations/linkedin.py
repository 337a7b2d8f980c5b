"""LinkedIn for Soshie (Community Management API: posts, page analytics) and for Buddy (sales).

Sales Navigator and messaging are partner-only at LinkedIn, so Buddy's prospecting and messaging actions
are declared but restricted; only public organization data is available to it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from config.catalog.base import (
    LIMIT,
    CredentialField,
    IntegrationSpec,
    NoParams,
    Params,
    act,
    exactly_one,
    field,
    ordered,
    token,
)

#: Why Buddy's Sales Navigator, prospecting and messaging actions are refused.
PARTNER_ONLY = (
    "Partner-only at LinkedIn: the Sales Navigator Application Platform (SNAP) is closed to new partners, "
    "and messaging/InMail APIs need a signed partner agreement. Cookie or browser automation breaks "
    "LinkedIn's terms, so Sintra does not offer it."
)



def _oauth_fields() -> tuple[CredentialField, ...]:
    """The 3-legged OAuth fields both LinkedIn integrations use."""
    return (
        field("client_id", example="86abcdefgh1234", description="Client id of the LinkedIn developer app."),
        field("client_secret", secret=True, example="WPL_AP1.0123456789abcdef.0123456789==",
              description="Client secret of the LinkedIn developer app."),
        token("refresh_token", example="AQX0123456789abcdef0123456789abcdef",
              description="Member refresh token (programmatic refresh must be enabled for the app); set by "
                          "\"Connect with LinkedIn\"."),
        token("access_token", example="AQV0123456789abcdef0123456789abcdef",
              description="Current member access token, if any."),
    )


class PublishPost(Params):
    """Parameters of ``publish_post``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "text": "We are hiring three remote engineers: https://acme.example/jobs #hiring", "visibility": "PUBLIC"}]})

    text: str = Field(min_length=1, max_length=3000, description="Post commentary.")
    visibility: Literal["PUBLIC", "CONNECTIONS", "LOGGED_IN"] = Field(default="PUBLIC",
                                                                     description="Who can see the post.")
    image_urn: str | None = Field(default=None, pattern=r"^urn:li:image:",
                                  description="Image uploaded with the Images API (urn:li:image:...).")


class PublishArticle(Params):
    """Parameters of ``publish_article``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "url": "https://acme.example/blog/ai-agents", "title": "How our AI agents work",
        "description": "A look behind the scenes.", "text": "New on our blog"}]})

    url: str = Field(pattern=r"^https?://", description="Article URL shown as a link card.")
    title: str = Field(min_length=1, max_length=400, description="Card title.")
    description: str | None = Field(default=None, max_length=4086, description="Card description.")
    text: str | None = Field(default=None, max_length=3000, description="Commentary above the card.")
    thumbnail_urn: str | None = Field(default=None, pattern=r"^urn:li:image:",
                                      description="Card thumbnail (urn:li:image:...).")


#: A post URN the share statistics accept.
PostUrn = Annotated[str, Field(pattern=r"^urn:li:(share|ugcPost):\d+$")]


def _yesterday() -> date:
    """Yesterday in UTC, the last full day of statistics."""
    return datetime.now(UTC).date() - timedelta(days=1)


class GetPostAnalytics(Params):
    """Parameters of ``get_post_analytics``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"post_urns": ["urn:li:share:7130000000000000001"]}]})

    post_urns: list[PostUrn] = Field(min_length=1, max_length=20, description="urn:li:share:... or "
                                                                              "urn:li:ugcPost:...")
    start_date: date | None = Field(default=None, description="First day (within the last 12 months).")
    end_date: date | None = Field(default=None,
                                  description="Last day; lifetime totals when both are omitted.")

    _ordered = ordered("start_date", "end_date")


class GetOrganizationStatistics(Params):
    """Parameters of ``get_organization_statistics``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"granularity": "DAY"}]})

    # Defaults rather than required dates: organic data only covers the last 12 months, so fixed dates go stale.
    start_date: date = Field(default_factory=lambda: _yesterday() - timedelta(days=27),
                             description="First day (organic data covers the last 12 months); default: the "
                                         "first of the last 28 days.")
    end_date: date = Field(default_factory=_yesterday, description="Last day; default: yesterday (UTC).")
    granularity: Literal["DAY", "MONTH"] = Field(default="DAY", description="Time bucket.")

    _ordered = ordered("start_date", "end_date")


class GetCompanyInsights(Params):
    """Parameters of ``get_company_insights``: one of the two identifiers."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"vanity_name": "microsoft"}]})

    organization_id: str | None = Field(default=None, pattern=r"^\d+$",
                                        description="Numeric organization id.")
    vanity_name: str | None = Field(default=None, description="Vanity name, as in "
                                                              "linkedin.com/company/<name>.")

    _one_identifier = exactly_one("organization_id", "vanity_name")


class ProspectSearch(Params):
    """Parameters of ``prospect_search``."""

    keywords: str | None = Field(default=None, description="Free-text keywords.")
    titles: list[str] = Field(default_factory=list, description="Current job titles.")
    company: str | None = Field(default=None, description="Current company.")
    geography: str | None = Field(default=None, description="Region or country.")
    limit: int = LIMIT


class SendMessage(Params):
    """Parameters of ``send_message``."""

    recipient_urn: str = Field(pattern=r"^urn:li:person:", description="Member to message.")
    subject: str | None = Field(default=None, max_length=200, description="Subject (InMail).")
    body: str = Field(min_length=1, max_length=8000, description="Message text.")


class ConnectionRequest(Params):
    """Parameters of ``send_connection_request``."""

    recipient_urn: str = Field(pattern=r"^urn:li:person:", description="Member to invite.")
    note: str | None = Field(default=None, max_length=300, description="Invitation note.")


class ProfileAssociation(Params):
    """Parameters of ``sales_navigator_profile_association``."""

    crm_record_id: str = Field(min_length=1, description="CRM contact or lead id to associate.")
    member_urn: str = Field(pattern=r"^urn:li:person:", description="LinkedIn member.")


class LeadLists(Params):
    """Parameters of ``sales_navigator_lead_lists``."""

    limit: int = LIMIT


class CrmSync(Params):
    """Parameters of ``sales_navigator_crm_sync``."""

    crm_instance_id: str = Field(min_length=1, description="CRM instance registered with Sales Navigator.")


SOCIAL_SPEC = IntegrationSpec(
    id="linkedin",
    provider="linkedin",
    name="LinkedIn",
    credential_fields=(
        *_oauth_fields(),
        field("organization_id", pattern=r"[0-9]{1,19}", pattern_hint="the page's numeric id (digits only)",
              example="2414183", description="Numeric id of the company page (urn:li:organization:{id})."),
    ),
    actions=(
        act("publish_post", "Post on the company page (POST /rest/posts, author = the organization URN). The "
            "post URN comes back in the x-restli-id header and is stored for retries.",
            PublishPost, side_effect=True),
        act("publish_article",
            "Share an article as a link-card post (POST /rest/posts with content.article). The API does not "
            "publish native long-form LinkedIn Articles.", PublishArticle, side_effect=True),
        act("get_post_analytics",
            "Impressions, clicks, reactions, comments and shares of given posts "
            "(GET /rest/organizationalEntityShareStatistics with shares/ugcPosts).", GetPostAnalytics),
        act("get_organization_statistics",
            "Page views and follower gains over time (organizationPageStatistics and "
            "organizationalEntityFollowerStatistics with timeIntervals; organic only, last 12 months).",
            GetOrganizationStatistics),
        act("get_organization", "The company page's profile (GET /rest/organizations/{organization_id}).",
            NoParams),
    ),
    reason="Needs LinkedIn's approval of the app for the Community Management API (w_organization_social, "
           "r_organization_social, rw_organization_admin) and an admin role on the page.",
    implemented=True,
)

SALES_SPEC = IntegrationSpec(
    id="linkedin_sales",
    provider="linkedin",
    name="LinkedIn (sales)",
    credential_fields=_oauth_fields(),
    actions=(
        act("get_company_insights",
            "Public facts about any company: name, website, industry, staff-count range and locations (GET "
            "/rest/organizations?q=vanityName or /rest/organizationsLookup; non-admins see fewer fields) "
            "plus its follower count (GET /rest/networkSizes/urn:li:organization:{id}).", GetCompanyInsights),
        act("prospect_search", "Search Sales Navigator for leads.", ProspectSearch, restricted=PARTNER_ONLY),
        act("send_message", "Send a LinkedIn message or InMail.", SendMessage, side_effect=True,
            restricted=PARTNER_ONLY),
        act("send_connection_request", "Invite a member to connect.", ConnectionRequest, side_effect=True,
            restricted=PARTNER_ONLY),
        act("sales_navigator_profile_association",
            "Associate a CRM record with a LinkedIn member (SNAP Profile Associations).", ProfileAssociation,
            side_effect=True, restricted=PARTNER_ONLY),
        act("sales_navigator_crm_sync", "Sales Navigator CRM sync status for a CRM instance.", CrmSync,
            restricted=PARTNER_ONLY),
        act("sales_navigator_lead_lists", "Saved Sales Navigator lead and account lists.", LeadLists,
            restricted=PARTNER_ONLY),
    ),
    reason="Only public organization data is available: Sales Navigator (SNAP) and messaging are "
           "partner-only.",
    implemented=True,
)
