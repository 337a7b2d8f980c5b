"""Conformance case: Penn / Grammarly (enterprise Writing Score, AI Detection, Plagiarism APIs)."""

from __future__ import annotations

from typing import Any

from config.catalog.integrations.grammarly import SPEC
from tests.providers.cases import ProviderCase
from workers.providers.grammarly import GrammarlyClient

GrammarlyClient.POLL_INTERVAL = 0.01
TEXT = ("Our new onboarding guide walks every customer through setup in under ten minutes. It explains "
        "how to connect the first data source, invite the team, and read the weekly report, and it ends "
        "with a short checklist that support can send after every call.")
DOC = {"text": TEXT}
FIELDS = {"general_score", "engagement", "correctness", "delivery", "clarity"}


def _has_writing_scores(result: dict[str, Any]) -> None:
    assert set(result["score"]) == FIELDS and all(0 <= v <= 1 for v in result["score"].values())

CASE = ProviderCase(
    spec=SPEC, client=GrammarlyClient,
    good={"client_id": "gc_penn", "client_secret": "gs_good_secret", "access_token": "gat_configured"},
    bad={"client_id": "gc_penn", "client_secret": "bad_secret", "access_token": "bad_token"},
    actions={"writing_score": DOC, "plagiarism_check": DOC, "ai_detection": {**DOC, "filename": "draft.rtf"}},
    probe=("writing_score", DOC),
    checks={"writing_score": _has_writing_scores},
    retry_after=2.0,
)
