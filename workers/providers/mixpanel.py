"""Mixpanel Query API and Raw Event Export client: segmentation, insights, funnels, retention, experiments.

Auth is a service account over Basic auth; every query carries ``project_id`` (and ``workspace_id`` when
connected). The region picks the hosts (``mixpanel.com``/``eu.``/``in.`` for queries, ``data``/
``data-eu``/``data-in`` for the export). Mixpanel sends no rate-limit headers: a 429 waits for
``Retry-After`` when one is sent, else the default delay. The raw export is a long job: the date range is
cut into at most :attr:`MixpanelClient.EXPORT_WINDOWS` windows (one request each, so a job stays well
inside the 60-an-hour export limit) and each window's events are stored in the job's steps as soon as
they arrive, so a restarted worker resumes at the first window not stored yet.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from workers.errors import AuthError, InvalidPayload
from workers.providers import _mixpanel_shapes as shapes
from workers.providers.base import ProviderClient, StepLog, expect_shape, require


class MixpanelClient(ProviderClient):
    """Mixpanel over service-account Basic auth, on the credential's data-residency hosts."""

    provider: ClassVar[str] = "mixpanel"
    #: Most export requests one job makes (the export allows 60 an hour per project).
    EXPORT_WINDOWS: ClassVar[int] = 10

    @classmethod
    def fill_base_url(cls, template: str, credentials: Mapping[str, str]) -> str:
        """The Query API base on the region's host (``https://eu.mixpanel.com/api`` for ``eu``)."""
        query_host, _ = shapes.region_hosts(credentials.get("region"))
        return template.replace("://mixpanel.com", f"://{query_host}", 1)

    # -- provider shapes -------------------------------------------------------------------------------

    @property
    def project_id(self) -> str:
        """The project every query reads."""
        return self.credential("project_id")

    def _scope(self, params: Mapping[str, Any], *, workspace: bool = True) -> dict[str, Any]:
        """``params`` without empty values, plus ``project_id`` and (Query API only) ``workspace_id``."""
        scope = {"project_id": self.project_id}
        if workspace and (workspace_id := self.credentials.get("workspace_id")):
            scope["workspace_id"] = workspace_id
        return scope | {k: v for k, v in params.items() if v is not None}

    def _query(self, path: str, params: Mapping[str, Any]) -> Any:
        return self.json("GET", path, params=self._scope(params))

    def export_url(self) -> str:
        """The Raw Export endpoint beside the Query API host (the same base when proxied or simulated)."""
        base = httpx.URL(str(self.http.base_url))
        data_host = shapes.EXPORT_HOSTS.get(base.host)
        if data_host is None:
            return str(base).rstrip("/") + "/2.0/export"
        return str(base.copy_with(host=data_host, path="/api/2.0/export"))

    def test_connection(self) -> dict[str, Any]:
        """Kept: the service account must see the configured project, which a 200 alone does not prove."""
        me = self.send_test_call()
        results = require(me, "results", self.provider, "GET /app/me")
        projects = results.get("projects") or {}
        if projects and str(self.project_id) not in {str(k) for k in projects}:
            raise AuthError(f"mixpanel service account cannot read project {self.project_id}")
        project = projects.get(str(self.project_id)) or {}
        return {"service_account": results.get("user_name") or results.get("user_email"),
                "project_id": self.project_id, "project_name": project.get("name"),
                "projects": len(projects), "region": (self.credentials.get("region") or "us").lower()}

    # -- reports ------------------------------------------------------------------------------------
    def _segment(self, event: str, params: Any, *, on: str | None, where: str | None,
                 kind: str) -> tuple[list[str], dict[str, dict[str, Any]]]:
        query = {"event": event, "from_date": params.from_date.isoformat(),
                 "to_date": params.to_date.isoformat(), "unit": params.unit, "type": kind, "on": on,
                 "where": where}
        data = self._query("/query/segmentation", query)
        with expect_shape(self.provider, "GET /query/segmentation"):
            return shapes.segmentation(data)

    def action_segmentation(self, params: Any, steps: StepLog) -> dict[str, Any]:
        """An event over time (GET /query/segmentation), split by ``on`` when given."""
        dates, values = self._segment(params.event, params, on=params.on, where=params.where,
                                      kind=params.type)
        return {"event": params.event, "type": params.type, "unit": params.unit, "on": params.on,
                "dates": dates, "values": values,
                "totals": {name: shapes.total(series) for name, series in values.items()}}

    def action_insights(self, params: Any, steps: StepLog) -> dict[str, Any]:
        """The series of a saved Insights report."""
        data = self._query("/query/insights", {"bookmark_id": params.bookmark_id})
        with expect_shape(self.provider, "GET /query/insights"):
            return {"bookmark_id": params.bookmark_id, "computed_at": data.get("computed_at"),
                    "date_range": data.get("date_range"), "headers": data.get("headers", []),
                    "series": data["series"]}

    def action_funnels(self, params: Any, steps: StepLog) -> dict[str, Any]:
        """A saved funnel's steps and conversion per date bucket."""
        query = {"funnel_id": params.funnel_id, "from_date": params.from_date.isoformat(),
                 "to_date": params.to_date.isoformat(), "length": params.length,
                 "length_unit": params.length_unit, "unit": params.unit, "on": params.on,
                 "where": params.where}
        data = self._query("/query/funnels", query)
        with expect_shape(self.provider, "GET /query/funnels"):
            dates, by_date = list(data["meta"]["dates"]), data["data"]
            if params.on:  # segmented funnels nest one more level (by property value): passed through
                return {"funnel_id": params.funnel_id, "on": params.on, "dates": dates, "data": by_date}
            days = [{"date": d, "steps": [shapes.funnel_step(s) for s in by_date[d]["steps"]],
                     "analysis": by_date[d].get("analysis")} for d in dates if d in by_date]
        return {"funnel_id": params.funnel_id, "dates": dates, "days": days}

    def action_retention(self, params: Any, steps: StepLog) -> dict[str, Any]:
        """Retention cohorts with their retention rates."""
        if params.retention_type == "birth" and not params.born_event:
            raise InvalidPayload("mixpanel birth retention needs born_event (the event that starts a cohort)")
        query = {"from_date": params.from_date.isoformat(), "to_date": params.to_date.isoformat(),
                 "retention_type": params.retention_type, "born_event": params.born_event,
                 "event": params.event, "unit": params.unit, "interval_count": params.interval_count,
                 "on": params.on, "where": params.where}
        data = self._query("/query/retention", query)
        head = {"retention_type": params.retention_type, "unit": params.unit, "born_event": params.born_event,
                "event": params.event}
        if params.on:  # segmented retention nests by property value: passed through
            return head | {"on": params.on, "segments": data}
        with expect_shape(self.provider, "GET /query/retention"):
            return head | {"cohorts": shapes.retention_cohorts(data)}

    def action_experiment_breakdown(self, params: Any, steps: StepLog) -> dict[str, Any]:
        """The metric event per variant of an experiment (segmentation on the variant)."""
        where = shapes.equals(params.experiment_property, params.experiment) if params.experiment else None
        dates, values = self._segment(params.event, params, on=shapes.prop(params.variant_property),
                                      where=where, kind=params.type)
        totals = {name: shapes.total(series) for name, series in values.items()}
        overall = sum(totals.values())
        variants = [{"variant": name, "total": totals[name],
                     "share": round(totals[name] / overall, 4) if overall else 0.0, "series": values[name]}
                    for name in sorted(values)]
        return {"event": params.event, "experiment": params.experiment, "type": params.type,
                "unit": params.unit, "variant_property": params.variant_property, "dates": dates,
                "variants": variants}

    # -- raw export -----------------------------------------------------------------------------------
    def _export_window(self, first: Any, last: Any, params: Any, limit: int) -> list[dict[str, Any]]:
        query = {"from_date": first.isoformat(), "to_date": last.isoformat(), "limit": limit,
                 "event": json.dumps(params.events) if params.events else None, "where": params.where}
        # the Export API takes project_id only; workspace_id belongs to the Query API
        response = self.request("GET", self.export_url(), params=self._scope(query, workspace=False),
                                headers={"Accept": "text/plain"})
        return shapes.jsonl(response.text, "GET /2.0/export")[:limit]

    def action_export_events(self, params: Any, steps: StepLog) -> dict[str, Any]:
        """Raw events, window by window, each window stored before the next is fetched."""
        if params.to_date < params.from_date:
            raise InvalidPayload("mixpanel export needs from_date on or before to_date")
        parts = shapes.windows(params.from_date, params.to_date, self.EXPORT_WINDOWS)
        events: list[dict[str, Any]] = []
        for n, (first, last) in enumerate(parts, start=1):
            if len(events) >= params.limit:
                break
            key = f"export:{first.isoformat()}:{last.isoformat()}"
            chunk = steps.get(key)
            if chunk is None:  # not fetched by an earlier attempt of this job
                chunk = self._export_window(first, last, params, params.limit - len(events))
                steps.put(key, chunk)
            events.extend(chunk)
            steps.progress(f"exported {first.isoformat()}..{last.isoformat()} ({n}/{len(parts)})",
                           round(100.0 * n / len(parts), 1))
        events = events[: params.limit]
        return {"from_date": params.from_date.isoformat(), "to_date": params.to_date.isoformat(),
                "count": len(events), "limit_reached": len(events) >= params.limit, "windows": len(parts),
                "events": events}


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = MixpanelClient
