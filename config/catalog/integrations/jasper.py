"""Jasper API for Penn: commands, templates, brand voices (tones) and style guides."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from config.catalog.base import LIMIT, IntegrationSpec, Params, act, field

#: Ids seeded in every sandbox workspace of the simulator (the "Product Descriptions" template, the "Friendly"
#: voice and the "Marketing" style guide), so the examples below run as written there.
TEMPLATE_ID = "skl_d6c083292c5c8d2c7d388bd34ffd0f7d"
TONE_ID = "ton_03fdbf12e03a4cd1409b84abe2b631df"
STYLE_ID = "sty_7cb15e416d62919b1b40298324fbe30b"

Language = Literal["English", "French", "Spanish", "Italian", "Portuguese", "German"]


class TemplateOptions(Params):
    """Generation options shared by commands and templates."""

    output_count: int = Field(default=1, ge=1, le=10, description="Number of outputs.")
    output_language: Language = Field(default="English", description="Language of the outputs.")
    input_language: Language = Field(default="English", description="Language of the inputs.")
    language_formality: Literal["default", "more", "less"] = Field(default="default",
                                                                   description="Formality.")


class CommandOptions(TemplateOptions):
    """Generation options of a command (templates have no completion type)."""

    completion_type: Literal["performance", "quality"] = Field(default="performance",
                                                               description="Speed or quality.")


class RunCommand(Params):
    """Parameters of ``run_command``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "command": "Write a 100-word product description for the Acme Sleep Mask",
        "context": "Silk, blocks all light, for travellers.", "tone_id": TONE_ID, "style_id": STYLE_ID,
        "options": {"output_count": 2}}]})

    command: str = Field(min_length=1, max_length=3000, description="What to write, e.g. 'Write a product "
                                                                     "description for ...'.")
    context: str | None = Field(default=None, max_length=6000, description="Background for the command.")
    tone_id: str | None = Field(default=None, description="Brand voice (from list_tones).")
    style_id: str | None = Field(default=None, description="Style guide (from list_styles).")
    audience_id: str | None = Field(default=None, description="Primary audience.")
    knowledge_ids: list[str] = Field(default_factory=list, max_length=3,
                                     description="Knowledge items (up to 3).")
    retrieval_add_on: Literal["webSearch", "webScraper"] | None = Field(
        default=None, description="Let Jasper search the web or scrape pages for context.")
    scrape_urls: list[str] = Field(default_factory=list, max_length=3, description="Pages for webScraper.")
    search_query: str | None = Field(default=None, max_length=400,
                                     description="webSearch: the query to run instead of Jasper's own, e.g. "
                                                 "the keyword to research for SEO.")
    search_max_results: int | None = Field(default=None, ge=1, le=5, description="webSearch: results to use.")
    site_block_list: list[str] = Field(default_factory=list, description="webSearch: domains to leave out.")
    options: CommandOptions = Field(default_factory=CommandOptions, description="Generation options.")

    @model_validator(mode="after")
    def _add_on_options(self) -> RunCommand:
        if self.scrape_urls and self.retrieval_add_on != "webScraper":
            raise ValueError("scrape_urls needs retrieval_add_on='webScraper'")
        searching = self.search_query or self.search_max_results or self.site_block_list
        if searching and self.retrieval_add_on != "webSearch":
            raise ValueError("search_query, search_max_results and site_block_list need "
                             "retrieval_add_on='webSearch'")
        return self


class RunTemplate(Params):
    """Parameters of ``run_template``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "template_id": TEMPLATE_ID, "tone_id": TONE_ID,
        "inputs": {"productName": "Acme Sleep Mask", "productDescription": "Silk, blocks all light."}}]})

    template_id: str = Field(min_length=1, description="Template id (from list_templates).")
    inputs: dict[str, Any] = Field(description="The template's inputs, by inputKey (see list_templates).")
    tone_id: str | None = Field(default=None, description="Brand voice (from list_tones).")
    style_id: str | None = Field(default=None, description="Style guide (from list_styles).")
    audience_id: str | None = Field(default=None, description="Primary audience.")
    knowledge_ids: list[str] = Field(default_factory=list, max_length=3,
                                     description="Knowledge items (up to 3).")
    options: TemplateOptions = Field(default_factory=TemplateOptions, description="Generation options.")


class ListTemplates(Params):
    """Parameters of ``list_templates``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"limit": 10}]})

    limit: int = LIMIT


class ListTones(Params):
    """Parameters of ``list_tones``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"query": "name: Friendly", "limit": 5}]})

    query: str | None = Field(default=None, description="Filter (q=), e.g. name: Friendly.")
    limit: int = LIMIT


class ListStyles(Params):
    """Parameters of ``list_styles``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"limit": 10}]})

    limit: int = LIMIT


SPEC = IntegrationSpec(
    id="jasper",
    provider="jasper",
    name="Jasper",
    credential_fields=(field("api_key", secret=True, example="0123456789abcdef0123456789abcdef",
                             description="Workspace API token, sent as X-API-Key."),),
    actions=(
        act("run_command", "Generate content from a free-form command with optional voice, style guide, "
            "audience and knowledge (POST /v1/command). Jasper's API has no SEO-optimisation endpoint (SEO "
            "mode is app-only), so SEO goals go into the command and context, and the webSearch add-on "
            "(search_query) brings in what ranks for a keyword.", RunCommand),
        act("run_template",
            "Generate content with a Jasper template (POST /v1/templates/{id}/run).", RunTemplate),
        act("list_templates", "Templates available to the workspace (GET /v1/templates).", ListTemplates),
        act("list_tones", "Brand voices (GET /v1/tones, page/size paging).", ListTones),
        act("list_styles", "Style guides: terms and writing rules (GET /v1/styles).", ListStyles),
    ),
    reason="API tokens need a Jasper Business plan.",
    implemented=True,
)
