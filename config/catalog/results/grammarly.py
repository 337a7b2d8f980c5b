"""Grammarly results: one finished score request per action (writing, originality, AI detection)."""

from __future__ import annotations

from config.catalog.results.base import Registry, Result, desc, register


class Scored(Result):
    """A finished score request."""

    score_request_id: str = desc("Grammarly's id of the score request.")
    status: str = desc("Always COMPLETED once the job succeeds.")
    updated_at: str | None = desc("When Grammarly finished scoring.")
    resumed: bool = desc("True when an earlier attempt of this job had already uploaded the text.")
    note: str | None = desc("Why there is no score (the text is too short to score).", None)


class WritingScore(Scored):
    """Writing quality scores."""

    score: dict[str, float] | None = desc("general_score, engagement, correctness, delivery, clarity (0-1).")


class Plagiarism(Scored):
    """An originality check."""

    score: dict[str, float] | None = desc("originality (0-1; 1 means nothing matched elsewhere).")


class AiDetection(Scored):
    """An AI-generated-text detection."""

    score: dict[str, float] | None = desc("average_confidence and ai_generated_percentage.")


RESULTS: Registry = register("grammarly", {
    "writing_score": WritingScore, "plagiarism_check": Plagiarism, "ai_detection": AiDetection,
})
