"""Ahrefs results: rows as the API v3 sends them (their columns follow the action's ``select``)."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register

_COST = "API units this call cost (0 when Ahrefs did not say)."


class _Rows(Result):
    target: str = desc("The domain or URL analysed.")
    count: int = desc("Number of rows returned.")
    units_cost: int = desc(_COST)


class Backlinks(_Rows):
    """Backlinks pointing at the target."""

    backlinks: list[dict[str, Any]] = desc("One row per backlink (url_from, url_to, anchor, ...).")


class ReferringDomains(_Rows):
    """Domains linking to the target."""

    refdomains: list[dict[str, Any]] = desc("One row per referring domain (domain, domain_rating, ...).")


class DomainRating(Result):
    """The target's Domain Rating on one day."""

    target: str = desc("The domain analysed.")
    date: str = desc("Day of the figures (YYYY-MM-DD).")
    domain_rating: float | None = desc("Domain Rating, 0-100.")
    ahrefs_rank: int | None = desc("Ahrefs Rank (1 is the strongest).")
    units_cost: int = desc(_COST)


class SiteExplorerOverview(Result):
    """Organic and backlink totals of the target."""

    target: str = desc("The domain or URL analysed.")
    mode: str = desc("How the target was matched (domain, prefix, exact, ...).")
    date: str = desc("Day of the figures (YYYY-MM-DD).")
    country: str | None = desc("Country of the organic figures (None: all).")
    organic: dict[str, Any] = desc("Organic metrics (org_keywords, org_traffic, org_cost, paid_*).")
    backlinks: dict[str, Any] = desc("Backlink totals (live, all_time, live_refdomains, ...).")
    units_cost: int = desc(_COST)


class OrganicCompetitors(_Rows):
    """Domains competing for the target's organic keywords."""

    country: str | None = desc("Country of the figures (None: all).")
    competitors: list[dict[str, Any]] = desc("One row per competitor (competitor_domain, keywords_common, ...).")


class OrganicKeywords(_Rows):
    """Keywords the target ranks for."""

    country: str | None = desc("Country of the figures (None: all).")
    keywords: list[dict[str, Any]] = desc("One row per keyword (keyword, position, url, volume, traffic).")


RESULTS: Registry = register("ahrefs", {
    "backlinks": Backlinks, "referring_domains": ReferringDomains, "domain_rating": DomainRating,
    "site_explorer_overview": SiteExplorerOverview, "organic_competitors": OrganicCompetitors,
    "organic_keywords": OrganicKeywords,
})
