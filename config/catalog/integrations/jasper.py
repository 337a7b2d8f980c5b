"""Jasper API for Penn: commands, templates, brand voices (tones) and style guides."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from config.catalog.base import LIMIT, IntegrationSpec, Params, act, field

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
    def _add_on_options(self) -> "RunCommand":
        if self.scrape_urls and self.retrieval_add_on != "webScraper":
            raise ValueError("scrape_urls needs retrieval_add_on='webScraper'")
        searching = self.search_query or self.search_max_results or self.site_block_list
        if searching and self.retrieval_add_on != "webSearch":
            raise ValueError("search_query, search_max_results and site_block_list need "
                             "retrieval_add_on='webSearch'")
        return self


class RunTemplate(Params):
    """Parameters of ``run_template``."""

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

    limit: int = LIMIT


class ListTones(Params):
    """Parameters of ``list_tones``."""

    query: str | None = Field(default=None, description="Filter (q=), e.g. name: Friendly.")
    limit: int = LIMIT


class ListStyles(Params):
    """Parameters of ``list_styles``."""

    limit: int = LIMIT


SPEC = IntegrationSpec(
    id="jasper",
    provider="jasper",
    name="Jasper",
    credential_fields=(field("api_key", secret=True, description="Workspace API token, sent as X-API-Key."),),
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
