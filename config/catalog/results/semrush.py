"""Semrush results: Analytics API reports parsed into rows, Site Audit summaries and Position Tracking rows."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register

_ROWS = "Parsed report rows (keyword, volume, cpc, ...; numbers as numbers)."


class KeywordOverview(Result):
    """A keyword's volume, CPC and difficulty in one database (or in every one)."""

    phrase: str = desc("The keyword.")
    found: bool = desc("False when Semrush has no data for it.")
    database: str | None = desc("The regional database (absent with all_databases).", None)
    overview: dict[str, Any] | None = desc("Its row (volume, cpc, competition, trend, difficulty, ...).", None)
    databases: list[dict[str, Any]] | None = desc("One row per database (with all_databases).", None)


class RelatedKeywords(Result):
    """Keywords related to a phrase."""

    phrase: str = desc("The keyword.")
    database: str = desc("The regional database.")
    keywords: list[dict[str, Any]] = desc(_ROWS)
    count: int = desc("Number returned.")


class DomainKeywords(Result):
    """Keywords a domain ranks for organically."""

    domain: str = desc("The domain.")
    database: str = desc("The regional database.")
    keywords: list[dict[str, Any]] = desc(_ROWS)
    count: int = desc("Number returned.")


class Competitors(Result):
    """A domain's organic competitors."""

    domain: str = desc("The domain.")
    database: str = desc("The regional database.")
    competitors: list[dict[str, Any]] = desc("Rows (domain, relevance, common_keywords, organic_traffic, ...).")
    count: int = desc("Number returned.")


class Issue(Result):
    """One kind of Site Audit issue."""

    id: int = desc("Semrush's issue id.")
    title: str | None = desc("What the issue is.")
    count: int | None = desc("Pages with it.")


class Audit(Result):
    """A Site Audit project's status, progress and last finished snapshot."""

    project_id: int = desc("The project.")
    status: str = desc("FINISHED, or the running audit's state.")
    running: bool = desc("True while an audit runs.")
    progress_pct: float = desc("How far the running audit is (100 when finished).")
    pages_crawled: int | None = desc("Pages crawled by the last audit.")
    errors: int | None = desc("Errors found.")
    warnings: int | None = desc("Warnings found.")
    notices: int | None = desc("Notices found.")
    snapshot_id: str | None = desc("The last finished snapshot (None before the first).")
    health_score: int | None = desc("The site's health score, 0-100.")
    top_errors: list[Issue] | None = desc("The most frequent errors (with a finished snapshot).", None)
    top_warnings: list[Issue] | None = desc("The most frequent warnings (with a finished snapshot).", None)


class AuditStarted(Audit):
    """A Site Audit launched (and waited for)."""

    launched_snapshot_id: str | None = desc("The snapshot the launched (or adopted) audit produces.")


class PositionTracking(Result):
    """Keyword positions of a Position Tracking campaign."""

    campaign_id: str = desc("The Position Tracking project.")
    url: str = desc("The tracked URL mask.")
    keywords: list[dict[str, Any]] = desc("Rows (keyword, position, start_position, change, volume, url, ...).")
    total: int = desc("Number of tracked keywords.")


RESULTS: Registry = register("semrush", {
    "keyword_overview": KeywordOverview, "related_keywords": RelatedKeywords,
    "domain_organic_keywords": DomainKeywords, "competitors": Competitors, "site_audit_start": AuditStarted,
    "site_audit_status": Audit, "position_tracking": PositionTracking,
})
