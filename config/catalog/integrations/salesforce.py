"""Salesforce REST API (v66.0, Spring '26) for Buddy: records, SOQL, pipeline and reports."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from config.catalog.base import LABEL, LIMIT, IntegrationSpec, Params, ParamError, act, field, token

#: Hosts Salesforce serves orgs' APIs from: My Domain (incl. sandboxes), instances, Hyperforce.
SALESFORCE_DOMAINS = ("salesforce.com", "force.com", "cloudforce.com", "database.com", "salesforce.mil",
                      "sfcrmproducts.cn")
#: ``instance_url``: https, Salesforce's own domains only; no userinfo, port, path, query or fragment.
SALESFORCE_INSTANCE = (rf"(?i)https://(?:{LABEL}\.)+(?:"
                       + "|".join(d.replace(".", r"\.") for d in SALESFORCE_DOMAINS) + ")/?")
#: Records every simulated org is seeded with: the first of its 260 leads and its first saved report.
SANDBOX_LEAD, SANDBOX_REPORT = "00Q5g00000000GcEAI", "00O5g0000000001EAA"
SObject = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", description="Object API name, e.g. Lead, Contact, "
                                                                "Opportunity.")
RecordId = Field(pattern=r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$", description="15- or 18-character record id.")
Fields = Field(min_length=1, description="Field API names and values, e.g. {\"LastName\": \"Doe\"}.")


class CreateRecord(Params):
    """Parameters of ``create_record``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"sobject": "Lead", "fields": {
        "FirstName": "Ada", "LastName": "Lovelace", "Company": "Analytical Engines", "Email": "ada@engines.example"}}]})

    sobject: str = SObject
    fields: dict[str, Any] = Fields


class UpdateRecord(Params):
    """Parameters of ``update_record``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "sobject": "Lead", "record_id": SANDBOX_LEAD, "fields": {"Status": "Working - Contacted"}}]})

    sobject: str = SObject
    record_id: str = RecordId
    fields: dict[str, Any] = Fields


class UpsertRecord(Params):
    """Parameters of ``upsert_record``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "sobject": "Contact", "external_id_field": "Sintra_Id__c", "external_id": "contact-0001",
        "fields": {"FirstName": "Grace", "LastName": "Hopper", "Email": "grace@navy.example"}}]})

    sobject: str = SObject
    external_id_field: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$",
                                   description="External-id field, e.g. Sintra_Id__c.")
    external_id: str = Field(min_length=1, description="Its value for this record.")
    fields: dict[str, Any] = Fields

    @model_validator(mode="after")
    def _same_id(self) -> UpsertRecord:
        given = self.fields.get(self.external_id_field, self.external_id)
        if str(given) != self.external_id:
            raise ParamError(f"fields.{self.external_id_field}", "differs from external_id")
        return self


class Query(Params):
    """Parameters of ``query``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"soql": "SELECT Id, Name, Industry FROM Account ORDER BY Name", "limit": 10}]})

    soql: str = Field(min_length=7, description="SOQL query, e.g. SELECT Id, Name FROM Account.")
    include_deleted: bool = Field(default=False, description="Include deleted and archived rows (queryAll).")
    limit: int = LIMIT


class ListOpportunities(Params):
    """Parameters of ``list_opportunities``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"stage_names": ["Proposal/Price Quote", "Negotiation/Review"], "limit": 20}]})

    stage_names: list[str] = Field(default_factory=list, description="Only these stages.")
    owner_id: str | None = Field(default=None, description="Only this owner's.")
    close_date_from: date | None = Field(default=None, description="Close date on or after.")
    close_date_to: date | None = Field(default=None, description="Close date on or before.")
    is_closed: bool | None = Field(default=False, description="Open only (False), closed only (True), all "
                                                              "(null).")
    limit: int = LIMIT


class PipelineSummary(Params):
    """Parameters of ``pipeline_summary``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"group_by": "stage"}]})

    group_by: Literal["stage", "forecast_category", "close_month", "owner"] = Field(
        default="stage", description="How to group amounts and counts.")
    close_date_from: date | None = Field(default=None, description="Close date on or after.")
    close_date_to: date | None = Field(default=None, description="Close date on or before.")
    include_closed: bool = Field(default=False, description="Include closed won/lost.")


Operator = Literal["equals", "notEqual", "lessThan", "greaterThan", "lessOrEqual", "greaterOrEqual",
                   "contains", "notContain", "startsWith", "includes", "excludes"]


class ReportFilter(Params):
    """A report filter that overrides the saved one for this run."""

    column: str = Field(min_length=1, description="Report column, e.g. OPPORTUNITY.STAGE_NAME.")
    operator: Operator = Field(description="Operator.")
    value: str = Field(description="Value.")


class RunReport(Params):
    """Parameters of ``run_report``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"report_id": SANDBOX_REPORT, "include_details": True}]})

    report_id: str = Field(pattern=r"^00O[a-zA-Z0-9]{12}([a-zA-Z0-9]{3})?$",
                           description="Report id (00O...).")
    include_details: bool = Field(default=True, description="Return detail rows as well as summaries.")
    filters: list[ReportFilter] = Field(default_factory=list, description="Filters for this run only.")


SPEC = IntegrationSpec(
    id="salesforce",
    provider="salesforce",
    name="Salesforce",
    credential_fields=(
        field("client_id", example="3MVG9A2kN3Bn17hs0123456789abcdefghijklmnopqrstuvwxyzABCDEF",
              description="Consumer key of the connected app or external client app."),
        field("client_secret", secret=True, example="0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
              description="Consumer secret."),
        token("refresh_token", example="5Aep8610123456789abcdefghijklmnopqrstuvwxyz",
              description="Refresh token (web-server flow)."),
        token("access_token", example="00D000000000000!AQ0000000000000000000000",
              description="Current access token, if any."),
        field("instance_url", required=False, pattern=SALESFORCE_INSTANCE, example="https://acme.my.salesforce.com",
              pattern_hint="an https URL on a Salesforce domain (e.g. https://acme.my.salesforce.com), "
                           "without path, port, user, query or fragment",
              description="My Domain URL from the token response, e.g. "
                                          "https://acme.my.salesforce.com."),
    ),
    actions=(
        act("create_record", "Create a record (POST /sobjects/{sobject}). No idempotency key: prefer "
            "upsert_record when the record has an external id.", CreateRecord, side_effect=True),
        act("update_record", "Update fields of a record (PATCH /sobjects/{sobject}/{id}).", UpdateRecord,
            side_effect=True),
        act("upsert_record", "Create or update by external id (PATCH /sobjects/{sobject}/{field}/{value}; "
                             "201 created, 204 updated), safe to retry.", UpsertRecord, side_effect=True),
        act("query",
            "Run SOQL (GET /query or /queryAll), following nextRecordsUrl until done or limit.", Query),
        act("list_opportunities", "Opportunities with stage, amount, close date and owner (SOQL).",
            ListOpportunities),
        act("pipeline_summary", "Pipeline totals: count and sum of Amount grouped by stage, forecast "
                                "category, close month or owner (aggregate SOQL).", PipelineSummary),
        act("run_report", "Run a saved report synchronously (GET or POST "
                          "/analytics/reports/{id}?includeDetails=).",
            RunReport),
    ),
    reason="Needs API access (Enterprise, Unlimited, Developer or Performance edition, or the API add-on) "
           "and a connected app.",
    implemented=True,
)
