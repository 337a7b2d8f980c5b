"""Grammarly's enterprise REST APIs for Penn: Writing Score, Plagiarism Detection and AI Detection.

Each check is three steps: create a request (get an id and a pre-signed upload URL), PUT the document
to that URL, then poll the request until COMPLETED or FAILED. The request id is stored before uploading,
so a retry polls instead of creating a second request.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from config.catalog.base import IntegrationSpec, Params, act, examples, field, token

#: Grammarly scores nothing below this many words (the result is COMPLETED with a null score).
MIN_WORDS = 30


class Document(Params):
    """The text to check, uploaded as a file."""

    model_config = examples(
        {"text": "Our new onboarding guide walks every customer through setup in under ten minutes. It explains how to "
                 "connect the first data source, invite the team, and read the weekly report, and it ends with a short "
                 "checklist that support can send after every call."},
    )

    text: str = Field(min_length=30, max_length=100_000,
                      description="Text to check: at least 30 words and at most 100,000 characters.")
    filename: str = Field(default="document.txt", pattern=r"^[^/\\]+\.(txt|rtf)$",
                          description="File name sent with the request. The text is uploaded as is, so "
                                      "use .txt for plain text or .rtf for RTF markup.")

    @field_validator("text")
    @classmethod
    def _enough_words(cls, text: str) -> str:
        if len(text.split()) < MIN_WORDS:
            raise ValueError(f"Grammarly needs at least {MIN_WORDS} words to score a text")
        return text


SPEC = IntegrationSpec(
    id="grammarly",
    provider="grammarly",
    name="Grammarly",
    credential_fields=(
        field("client_id",
              description="API client id, created by an org admin in the Grammarly Admin panel.",
              example="gc_0000000000"),
        field("client_secret", secret=True, description="API client secret (client-credentials grant).",
              example="gs_00000000000000000000"),
        field("scopes", required=False,
              description="Scopes granted to the credential, comma separated (default: the read and write "
                          "scopes of the Writing Score, AI Detection and Plagiarism APIs).",
              pattern=r"[a-z0-9:._-]+(?:[\s,]+[a-z0-9:._-]+)*",
              pattern_hint="scope names separated by commas or spaces",
              example="scores-api:read,scores-api:write"),
        token("access_token",
              description="Current access token; Sintra fetches and stores it with the client credentials.",
              example="gat_0000000000000000"),
    ),
    actions=(
        act("writing_score", "Overall score plus engagement, correctness, delivery and clarity, each 0-1 "
            "(POST /v2/scores, upload, poll GET /v2/scores/{id}).", Document),
        act("plagiarism_check", "Originality score against web pages and academic papers "
            "(POST /v1/plagiarism, upload, poll; beta).", Document),
        act("ai_detection", "Average confidence that the text was AI-generated and the share of it that "
            "reads as AI-generated (POST /v1/ai-detection, upload, poll; beta).", Document),
    ),
    reason="Needs a Grammarly Enterprise or Education account: the developer SDK (Text Editor SDK) was shut "
           "down on 10 Jan 2024 and only these enterprise REST APIs remain.",
    implemented=True,
)
