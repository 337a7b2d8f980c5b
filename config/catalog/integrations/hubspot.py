"""HubSpot for Buddy (CRM: deals, contacts, e-mail activity, sequences) and Emmie (marketing e-mail, lists,
workflows). Both entries share the provider, base URL and OAuth credentials.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from config.catalog.base import LIMIT, ActionSpec, CredentialField, IntegrationSpec, Params, act, examples, field, token

Properties = Field(min_length=1, description="HubSpot property names and values.")
ExtraProperties: Any = Field(default_factory=dict, description="More HubSpot properties.")


def _credentials() -> tuple[CredentialField, ...]:
    return (
        field("client_id", description="Client id of the HubSpot app.",
              example="5d3c9e1a-0000-0000-0000-000000000000"),
        field("client_secret", secret=True, description="Client secret of the HubSpot app.",
              example="00000000-0000-0000-0000-000000000000"),
        token("refresh_token", description="Refresh token of the installed account.",
              example="na1-0000-0000-0000-0000-000000000000"),
        token("access_token", description="Current access token (30 min), if "
                                                                       "any.",
              example="CK00000000000000000000"),
        field("portal_id", required=False, description="HubSpot account (hub) id.",
              pattern=r"\d{1,12}", pattern_hint="the numeric HubSpot account id", example="2000001"),
    )


# --- CRM (Buddy) ---


class CreateDeal(Params):
    """Parameters of ``create_deal``."""

    model_config = examples(
        {"dealname": "Big deal", "dealstage": "appointmentscheduled", "amount": 5000,
         "closedate": "2026-12-01T00:00:00Z", "contact_ids": ["101"], "company_ids": ["201"]},
    )

    dealname: str = Field(min_length=1, description="Deal name.")
    pipeline: str = Field(default="default", description="Pipeline id.")
    dealstage: str = Field(min_length=1, description="Stage id within the pipeline.")
    amount: float | None = Field(default=None, ge=0, description="Amount.")
    closedate: datetime | None = Field(default=None, description="Expected close date.")
    owner_id: str | None = Field(default=None, description="hubspot_owner_id.")
    properties: dict[str, Any] = ExtraProperties
    contact_ids: list[str] = Field(default_factory=list, description="Contacts to associate.")
    company_ids: list[str] = Field(default_factory=list, description="Companies to associate.")


class UpdateObject(Params):
    """Parameters of ``update_deal`` and ``update_contact``."""

    id: str = Field(min_length=1, description="Record id.")
    properties: dict[str, Any] = Properties


class UpdateDeal(UpdateObject):
    """Parameters of ``update_deal``."""

    model_config = examples({"id": "301", "properties": {"dealstage": "closedwon"}})


class UpdateContact(UpdateObject):
    """Parameters of ``update_contact``."""

    model_config = examples({"id": "101", "properties": {"lifecyclestage": "customer"}})


class ListDeals(Params):
    """Parameters of ``list_deals``."""

    model_config = examples({"limit": 5})

    pipeline: str | None = Field(default=None, description="Only this pipeline (uses CRM search).")
    dealstage: str | None = Field(default=None, description="Only this stage (uses CRM search).")
    properties: list[str] = Field(
        default_factory=lambda: ["dealname", "amount", "dealstage", "pipeline", "closedate",
                                 "hubspot_owner_id"],
        description="Properties to return.")
    limit: int = LIMIT


class CreateContact(Params):
    """Parameters of ``create_contact``."""

    model_config = examples({"email": "new.person@example.com", "firstname": "New", "lastname": "Person"})

    email: str = Field(min_length=3, description="E-mail (unique per contact).")
    firstname: str | None = Field(default=None, description="First name.")
    lastname: str | None = Field(default=None, description="Last name.")
    properties: dict[str, Any] = ExtraProperties


Operator = Literal["EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY",
                   "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"]
EventType = Literal["SENT", "DELIVERED", "OPEN", "CLICK", "BOUNCE", "DEFERRED", "DROPPED", "SPAMREPORT",
                    "STATUSCHANGE", "PROCESSED", "PRINT", "FORWARD"]


class SearchFilter(Params):
    """One CRM search condition."""

    property_name: str = Field(min_length=1, description="Property (propertyName).")
    operator: Operator = Field(description="Operator.")
    value: str | None = Field(default=None, description="Value (or the low end for BETWEEN).")
    high_value: str | None = Field(default=None, description="High end for BETWEEN (highValue).")
    values: list[str] | None = Field(default=None, description="Values for IN / NOT_IN.")


class SearchContacts(Params):
    """Parameters of ``search_contacts``."""

    model_config = examples({"query": "contact1", "limit": 5})

    query: str | None = Field(default=None, description="Free text over name, e-mail, phone and company.")
    filters: list[SearchFilter] = Field(default_factory=list, max_length=6, description="Conditions (AND).")
    properties: list[str] = Field(
        default_factory=lambda: ["email", "firstname", "lastname", "lifecyclestage"],
        description="Properties to return.")
    limit: int = LIMIT


class UpsertContact(Params):
    """One contact of a batch upsert."""

    id: str = Field(min_length=1, description="Value of the id property, e.g. the e-mail.")
    properties: dict[str, Any] = Field(default_factory=dict, description="Properties to set.")


class BatchUpsertContacts(Params):
    """Parameters of ``batch_upsert_contacts``."""

    model_config = examples(
        {"contacts": [{"id": "batch@example.com", "properties": {"firstname": "B"}},
                      {"id": "contact0@example.com", "properties": {"jobtitle": "CEO"}}]},
    )

    id_property: str = Field(default="email", description="Unique property that identifies contacts.")
    contacts: list[UpsertContact] = Field(min_length=1, max_length=100, description="Contacts (up to 100).")


class EmailEvents(Params):
    """Parameters of ``list_email_events``."""

    model_config = examples({"limit": 20, "event_type": "OPEN"})

    recipient: str | None = Field(default=None, description="Only events for this e-mail address.")
    campaign_id: int | None = Field(default=None, description="Only this e-mail campaign.")
    event_type: EventType | None = Field(default=None, description="Event type.")
    start_time: datetime | None = Field(default=None, description="Events at or after.")
    end_time: datetime | None = Field(default=None, description="Events before.")
    limit: int = LIMIT


class EmailEngagements(Params):
    """Parameters of ``list_email_engagements``."""

    model_config = examples({"contact_id": "101"})

    contact_id: str | None = Field(default=None, description="Only e-mails associated with this contact.")
    deal_id: str | None = Field(default=None, description="Only e-mails associated with this deal.")
    since: datetime | None = Field(default=None, description="Logged at or after.")
    limit: int = LIMIT


class EnrollInSequence(Params):
    """Parameters of ``enroll_in_sequence``."""

    model_config = examples(
        {"sequence_id": "6001", "contact_id": "110", "user_id": "7001", "sender_email": "owner1@sim.example"},
    )

    sequence_id: str = Field(min_length=1, description="Sequence id.")
    contact_id: str = Field(min_length=1, description="Contact to enroll.")
    user_id: str = Field(min_length=1, description="HubSpot user whose connected inbox sends the sequence.")
    sender_email: str = Field(min_length=3, description="That user's sending address.")


def _spec(integration_id: str, name: str, actions: tuple[ActionSpec, ...], **more: Any) -> IntegrationSpec:
    """One of HubSpot's two integrations: one provider, the same app credentials."""
    return IntegrationSpec(id=integration_id, provider="hubspot", name=name, credential_fields=_credentials(),
                           actions=actions, implemented=True, **more)


CRM_SPEC = _spec(
    "hubspot_crm", "HubSpot CRM", (
        act("create_deal", "Create a deal with associations (POST /crm/v3/objects/deals).", CreateDeal,
            side_effect=True),
        act("update_deal", "Update deal properties, e.g. move its stage (PATCH /crm/v3/objects/deals/{id}).",
            UpdateDeal, side_effect=True),
        act("list_deals",
            "Deals (GET /crm/v3/objects/deals, or POST .../deals/search when filtered).", ListDeals),
        act("create_contact", "Create a contact (POST /crm/v3/objects/contacts); a duplicate e-mail answers "
                              "409 with the existing id.", CreateContact, side_effect=True),
        act("search_contacts", "Search contacts (POST /crm/v3/objects/contacts/search; at most 10,000 "
                               "results).",
            SearchContacts),
        act("update_contact",
            "Update contact properties (PATCH /crm/v3/objects/contacts/{id}).", UpdateContact,
            side_effect=True),
        act("batch_upsert_contacts", "Create or update up to 100 contacts by a unique property "
            "(POST /crm/v3/objects/contacts/batch/upsert with idProperty), safe to retry.",
            BatchUpsertContacts, side_effect=True),
        act("list_email_events", "Sends, opens, clicks, bounces of marketing e-mails "
            "(GET /email/public/v1/events, legacy Email Events API, content scope).", EmailEvents),
        act("list_email_engagements", "One-to-one sales e-mails logged on CRM records "
            "(POST /crm/v3/objects/emails/search by association).", EmailEngagements),
        act("enroll_in_sequence", "Enroll a contact in a sales sequence (POST /automation/v4/sequences/"
            "enrollments?userId=); needs an assigned Sales Hub or Service Hub Professional/Enterprise seat "
            "and the automation.sequences scopes.", EnrollInSequence, side_effect=True),
    ),
)


# --- Marketing (Emmie) ---


class ListMarketingEmails(Params):
    """Parameters of ``list_marketing_emails``."""

    model_config = examples({"include_stats": True})

    include_stats: bool = Field(default=False, description="Include send statistics.")
    archived: bool = Field(default=False, description="Archived e-mails instead of active ones.")
    limit: int = LIMIT


class CreateMarketingEmail(Params):
    """Parameters of ``create_marketing_email``."""

    model_config = examples(
        {"name": "Autumn", "subject": "Autumn sale", "from_name": "Acme", "reply_to": "hi@acme.example",
         "list_ids": ["1"]},
    )

    name: str = Field(min_length=1, description="Internal name.")
    subject: str | None = Field(default=None, description="Subject line.")
    from_name: str | None = Field(default=None, description="Sender name.")
    reply_to: str | None = Field(default=None, description="Reply-to address.")
    list_ids: list[str] = Field(default_factory=list, description="Lists to send to.")
    template_path: str | None = Field(default=None, description="Template to build on.")
    properties: dict[str, Any] = ExtraProperties


class EmailStatistics(Params):
    """Parameters of ``get_email_statistics``."""

    model_config = examples({"start_time": "2020-01-01T00:00:00Z", "end_time": "2031-01-01T00:00:00Z"})

    email_ids: list[int] = Field(default_factory=list, description="Only these e-mails; all when empty.")
    start_time: datetime = Field(description="Period start.")
    end_time: datetime = Field(description="Period end.")


class ListLists(Params):
    """Parameters of ``list_lists``."""

    model_config = examples({"query": "News"})

    query: str | None = Field(default=None, description="Name contains.")
    object_type_id: str = Field(default="0-1", description="Object type: 0-1 contacts, 0-2 companies.")
    limit: int = LIMIT


class CreateList(Params):
    """Parameters of ``create_list``."""

    model_config = examples({"name": "VIPs"})

    name: str = Field(min_length=1, description="List name.")
    object_type_id: str = Field(default="0-1", description="Object type: 0-1 contacts, 0-2 companies.")
    processing_type: Literal["MANUAL", "DYNAMIC", "SNAPSHOT"] = Field(default="MANUAL",
                                                                      description="List type.")
    filter_branch: dict[str, Any] | None = Field(default=None, description="Filter definition "
                                                                           "(DYNAMIC/SNAPSHOT).")


class AddToList(Params):
    """Parameters of ``add_to_list``."""

    model_config = examples({"list_id": "1", "record_ids": ["104"]})

    list_id: str = Field(min_length=1, description="MANUAL or SNAPSHOT list id.")
    record_ids: list[str] = Field(min_length=1, max_length=100_000, description="Record ids to add.")


class ListWorkflows(Params):
    """Parameters of ``list_workflows``."""

    model_config = examples({"limit": 20})

    limit: int = LIMIT


class EnrollInWorkflow(Params):
    """Parameters of ``enroll_in_workflow``."""

    model_config = examples({"workflow_id": "1001", "email": "contact5@example.com"})

    workflow_id: str = Field(min_length=1, description="Legacy workflow id (v4 flow ids map to it through "
                                                        "/automation/v4/workflow-id-mappings).")
    email: str = Field(min_length=3, description="E-mail of an existing contact.")


class SendSingleEmail(Params):
    """Parameters of ``send_single_email``."""

    email_id: int = Field(ge=1, description="Published transactional/automated marketing e-mail.")
    to: str = Field(min_length=3, description="Recipient.")
    send_id: str | None = Field(default=None, description="Dedupe key: at most one e-mail per sendId (job "
                                                          "key).")
    contact_properties: dict[str, Any] = Field(default_factory=dict, description="Contact properties to set.")
    custom_properties: dict[str, Any] = Field(default_factory=dict, description="Template variables.")


MARKETING_SPEC = _spec(
    "hubspot_marketing", "HubSpot Marketing", (
        act("list_marketing_emails", "Marketing e-mails (GET /marketing/v3/emails).", ListMarketingEmails),
        act("create_marketing_email", "Create a draft marketing e-mail (POST /marketing/v3/emails). "
                                      "Publishing or sending it through the API needs Marketing Hub "
                                      "Enterprise.", CreateMarketingEmail,
            side_effect=True),
        act("get_email_statistics", "Aggregated sends, opens, clicks, bounces (GET "
            "/marketing/v3/emails/statistics/list).", EmailStatistics),
        act("list_lists", "Lists (POST /crm/v3/lists/search).", ListLists),
        act("create_list", "Create a list (POST /crm/v3/lists).", CreateList, side_effect=True),
        act("add_to_list", "Add records to a list (PUT /crm/v3/lists/{id}/memberships/add); adding twice is "
            "harmless.", AddToList, side_effect=True),
        act("list_workflows", "Workflows (GET /automation/v4/flows; the v4 Automation API is in beta).",
            ListWorkflows),
        act("enroll_in_workflow", "Enroll a contact in a contact-based workflow (POST "
            "/automation/v2/workflows/{id}/enrollments/contacts/{email}; v4 has no enrollment endpoint).",
            EnrollInWorkflow, side_effect=True),
        act("send_single_email", "Send one marketing e-mail to one contact (POST "
                                 "/marketing/v4/email/single-send).",
            SendSingleEmail, side_effect=True,
            restricted="Needs Marketing Hub Enterprise (or the transactional e-mail add-on); refused until "
                       "Sintra can check the account's tier."),
    ),
    reason="Workflows need Marketing, Sales or Service Hub Professional or higher; API publishing and "
           "single-send need Marketing Hub Enterprise.",
)
