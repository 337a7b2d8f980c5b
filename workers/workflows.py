"""Fan-in of workflow jobs: combine the step jobs' results into one report.

Chained workflows (Penn writes, another agent publishes) are reported by :mod:`workers.workflow_chained`.
The SEO analysis report merges keyword rows from Search Console (queries with clicks, impressions,
position), Semrush and Ahrefs (keywords with volume, position, traffic) and recommends:

* quick wins: keywords ranking 4-20 with the most demand (volume, or impressions when no volume);
* content gaps: keywords the market data (Semrush/Ahrefs) shows that Search Console has no query for;
* protect: keywords in the top 3 with the most traffic or clicks.

A missing source (its step failed, or is not configured) is listed under ``missing`` with the
reason, and the report is marked ``partial``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from config.catalog.workflows import WORKFLOWS
from workers.errors import ProviderRejected
from workers.store.models import Job
from workers.workflow_chained import combine_chained, reason

#: Keys that name a keyword in a provider's row, and the numeric fields we merge.
_KEYWORD_KEYS = ("keyword", "query", "phrase", "Keyword", "Ph")
_NUMBERS = {"position": ("position", "best_position", "Po", "pos"), "volume": ("volume", "search_volume", "Nq"),
            "traffic": ("traffic", "sum_traffic", "Tr"), "clicks": ("clicks",), "impressions": ("impressions",),
            "ctr": ("ctr",)}
TOP = 10


def _keyword(row: dict[str, Any]) -> str | None:
    for key in _KEYWORD_KEYS:
        if isinstance(row.get(key), str):
            return row[key].strip().lower()
    keys = row.get("keys")  # Search Console: {"query": ...} per dimension (or Google's raw list)
    if isinstance(keys, dict) and isinstance(keys.get("query"), str):
        return keys["query"].strip().lower()
    return str(keys[0]).strip().lower() if isinstance(keys, list) and keys else None


def _number(row: dict[str, Any], names: Iterable[str]) -> float | None:
    for name in names:
        value = row.get(name)
        try:
            return float(value) if value is not None and value != "" else None
        except (TypeError, ValueError):
            continue
    return None


def keyword_rows(result: Any) -> list[dict[str, Any]]:
    """Keyword rows found anywhere in a step's result, normalised to keyword + numbers."""
    found: list[dict[str, Any]] = []

    def walk(value: Any) -> None:
        if (isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
                and any(_keyword(v) for v in value)):
            for v in value:
                if kw := _keyword(v):
                    found.append({"keyword": kw, **{k: n for k, names in _NUMBERS.items()
                                                    if (n := _number(v, names)) is not None}})
            return
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(result)
    return found


def _merge(sections: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for source, rows in sections.items():
        for row in rows:
            entry = merged.setdefault(row["keyword"], {"keyword": row["keyword"], "sources": []})
            entry["sources"].append(source)
            for key, value in row.items():
                if key == "keyword":
                    continue
                if key == "position":
                    entry[key] = min(value, entry.get(key, value))
                else:
                    entry[key] = max(value, entry.get(key, value))
    return merged


def _demand(entry: dict[str, Any]) -> float:
    return float(entry.get("volume") or entry.get("impressions") or 0)


def recommendations(merged: dict[str, dict[str, Any]], gsc_available: bool) -> dict[str, list[dict[str, Any]]]:
    """Quick wins, content gaps and keywords to protect."""
    entries = list(merged.values())
    quick = sorted((e for e in entries if 4 <= e.get("position", 0) <= 20), key=_demand, reverse=True)
    gaps = sorted((e for e in entries if "search_console" not in e["sources"]), key=_demand, reverse=True) \
        if gsc_available else []
    protect = sorted((e for e in entries if 0 < e.get("position", 99) <= 3),
                     key=lambda e: e.get("traffic") or e.get("clicks") or 0, reverse=True)
    return {"quick_wins": quick[:TOP], "content_gaps": gaps[:TOP], "protect": protect[:TOP]}


def combine(parent: Job, steps: list[Job]) -> dict[str, Any]:
    """The workflow's report from its finished step jobs."""
    spec = WORKFLOWS[parent.action]
    if spec.written is not None:
        return combine_chained(spec, parent, steps)
    by_integration = {j.integration: j for j in steps}
    sections: dict[str, list[dict[str, Any]]] = {}
    sources, missing = {}, []
    for step in spec.steps:
        job = by_integration.get(step.integration)
        if job is None or job.status != "succeeded":
            why, error_type = reason(job)
            missing.append({"source": step.section, "integration": step.integration, "reason": why,
                            "error_type": error_type})
            continue
        rows = keyword_rows(job.result)
        sections[step.section] = rows
        sources[step.section] = {"job_id": job.id, "keywords": len(rows)}
    if not sections:
        reasons = "; ".join(f"{m['source']}: {m['reason']}" for m in missing)
        raise ProviderRejected(f"no source of {spec.id} succeeded ({reasons})")
    merged = _merge(sections)
    return {"workflow": spec.id, "params": parent.params, "partial": bool(missing), "sources": sources,
            "missing": missing, "keywords_total": len(merged),
            "recommendations": recommendations(merged, "search_console" in sections),
            "summary": _summary(sources, missing, merged)}


def _summary(sources: dict[str, Any], missing: list[dict[str, Any]], merged: dict[str, Any]) -> str:
    text = f"{len(merged)} keywords from {', '.join(sources) or 'no source'}"
    if missing:
        text += f"; missing: {', '.join(m['source'] for m in missing)} (see 'missing' for why)"
    return text
