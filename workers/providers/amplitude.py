"""Amplitude Dashboard REST, Behavioral Cohorts and User Profile client: segmentation, users, cohorts.

Auth is Basic ``api_key:secret_key`` on the region's host (``amplitude.com`` or
``analytics.eu.amplitude.com``). Amplitude sends no rate-limit headers: a 429 (5 concurrent requests,
an hourly cost budget, 360 user searches an hour) waits for ``Retry-After`` when sent, else the default.
One user's prediction propensity comes from the User Profile API (``profile-api.amplitude.com``,
``Api-Key`` auth with the secret key, US only). A cohort download is asynchronous: request (counts
against 500 a month) -> poll -> file. The request id is stored in the job's steps before polling, so a
restarted worker polls the same request instead of spending another download; the file of a large
cohort is a redirect to a pre-signed S3 URL, fetched without our credentials.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import httpx

from workers.errors import (
    AgentError,
    AuthError,
    IntegrationUnavailable,
    InvalidPayload,
    MalformedResponse,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
)
from workers.providers import _amplitude_shapes as shapes
from workers.providers._parse import json_object
from workers.providers._polling import poll
from workers.providers.base import ProviderClient, StepLog, expect_shape, require

REDIRECTS = (301, 302, 303, 307, 308)
#: The User Profile API (US data centre only).
PROFILE_URL = "https://profile-api.amplitude.com/v1/userprofile"
#: The Profile API allows 600 requests a minute per organisation.
PROFILE_THROTTLE_DELAY = 60.0


class AmplitudeClient(ProviderClient):
    """Amplitude's Dashboard REST (``/2``), cohort list (``/3``) and cohort download (``/5``) APIs."""

    provider: ClassVar[str] = "amplitude"
    #: Most events one ``/2/useractivity`` request returns.
    PAGE_SIZE: ClassVar[int] = 1000
    #: Seconds between two cohort-request status polls, and the longest wait before the job is retried.
    POLL_INTERVAL: ClassVar[float] = 3.0
    POLL_TIMEOUT: ClassVar[float] = 180.0
    _anonymous: bool = False

    @classmethod
    def fill_base_url(cls, template: str, credentials: Mapping[str, str]) -> str:
        """The API base on the region's host (``https://analytics.eu.amplitude.com/api`` for ``eu``)."""
        return template.replace("https://amplitude.com", shapes.region_host(credentials.get("region")), 1)

    # -- provider shapes -------------------------------------------------------------------------------
    def auth_headers(self) -> dict[str, str]:
        """Kept: the definition's Basic auth, but none towards a pre-signed download link."""
        return {} if self._anonymous else super().auth_headers()

    def error_for(self, response: httpx.Response) -> AgentError | None:
        """The HTTP status first; a 2xx JSON body carrying ``error`` (the Profile API's way) is one too."""
        if response.status_code >= 300:
            return super().error_for(response)
        body = json_object(response)
        message = body.get("error") if body is not None else None
        if not isinstance(message, str) or not message:
            return None
        text = f"amplitude answered {response.status_code} with an error: {message[:300]}"
        if "exceeds system limit" in message:
            return RateLimited(text, retry_after=PROFILE_THROTTLE_DELAY, status=response.status_code)
        return ProviderRejected(text, status=response.status_code)

    def test_connection(self) -> dict[str, Any]:
        """Kept: the number of event types and the region the credentials work in."""
        data = self.send_test_call()
        events = require(data, "data", self.provider, "GET /2/events/list")
        return {"event_types": len(events) if isinstance(events, list) else None,
                "region": (self.credentials.get("region") or "us").lower()}

    @contextmanager
    def _presigned(self) -> Iterator[None]:
        self._anonymous = True
        try:
            yield
        finally:
            self._anonymous = False

    # -- analytics ----------------------------------------------------------------------------------
    def action_event_segmentation(self, params: Any, steps: StepLog) -> dict[str, Any]:
        """A metric of one event per bucket, optionally grouped and filtered."""
        event: dict[str, Any] = {"event_type": params.event_type}
        query: dict[str, Any] = {"start": shapes.ymd(params.start), "end": shapes.ymd(params.end),
                                 "m": params.metric, "i": shapes.INTERVALS[params.interval]}
        if params.metric in shapes.PROPERTY_METRICS:
            if not params.group_by:
                raise InvalidPayload(f"amplitude metric {params.metric!r} needs group_by (an event property)")
            event["group_by"] = [{"type": "event", "value": params.group_by}]
        elif params.group_by:
            query["g"] = params.group_by
        if params.segment:
            query["s"] = shapes.compact([s.model_dump() for s in params.segment])
        query["e"] = shapes.compact(event)
        data = self.json("GET", "/2/events/segmentation", params=query)
        with expect_shape(self.provider, "GET /2/events/segmentation"):
            x_values, series = shapes.segmentation_series(data["data"], params.event_type)
        return {"event_type": params.event_type, "metric": params.metric, "interval": params.interval,
                "group_by": params.group_by, "x_values": x_values, "series": series}

    def action_user_search(self, params: Any, steps: StepLog) -> dict[str, Any]:
        """Users matching an Amplitude id, user id, device id or user id prefix."""
        data = self.json("GET", "/2/usersearch", params={"user": params.user})
        with expect_shape(self.provider, "GET /2/usersearch"):
            return {"query": params.user, "type": data.get("type"), "matches": list(data["matches"])}

    def action_user_activity(self, params: Any, steps: StepLog) -> dict[str, Any]:
        """A user's summary and events, paged with offset up to ``limit``."""
        events: list[dict[str, Any]] = []
        user: dict[str, Any] | None = None
        while len(events) < params.limit:
            want = min(self.PAGE_SIZE, params.limit - len(events))
            query = {"user": params.amplitude_id, "offset": len(events), "limit": want,
                     "direction": params.direction}
            page = self.json("GET", "/2/useractivity", params=query)
            with expect_shape(self.provider, "GET /2/useractivity"):
                batch, user = list(page["events"]), user or dict(page["userData"])
                events.extend(shapes.event_summary(e) for e in batch)
            if len(batch) < want:  # the stream is exhausted (a page may also overshoot to end a session)
                break
        return {"amplitude_id": params.amplitude_id, "direction": params.direction, "user": user,
                "count": min(len(events), params.limit), "events": events[: params.limit]}

    def profile_url(self) -> str:
        """The User Profile API beside the REST host (the same base when proxied or simulated)."""
        base = httpx.URL(str(self.http.base_url))
        if base.host == "analytics.eu.amplitude.com":
            raise IntegrationUnavailable("amplitude's User Profile API (prediction propensities) is not "
                                         "offered in the EU region")
        return PROFILE_URL if base.host == "amplitude.com" else str(base).rstrip("/") + "/v1/userprofile"

    def action_user_propensity(self, params: Any, steps: StepLog) -> dict[str, Any]:
        """One user's propensities for predictions synced to the Profile API."""
        query = {"get_propensity": "true", "prediction_id": ",".join(params.prediction_ids),
                 "propensity_type": params.propensity_type, "user_id": params.user_id,
                 "device_id": params.device_id}
        auth = {"Authorization": f"Api-Key {self.credentials.get('secret_key', '')}"}
        data = self.json("GET", self.profile_url(), headers=auth,
                         params={k: v for k, v in query.items() if v is not None})
        with expect_shape(self.provider, "GET /v1/userprofile"):
            user = data["userData"]
            found = [{"prediction_id": p["pred_id"], "value": p["prop"], "type": p.get("prop_type")}
                     for p in user.get("propensities") or []]
        return {"user_id": user.get("user_id"), "device_id": user.get("device_id"),
                "propensity_type": params.propensity_type, "propensities": found}

    # -- cohorts --------------------------------------------------------------------------------------
    def action_list_cohorts(self, params: Any, steps: StepLog) -> dict[str, Any]:
        """Discoverable cohorts (predictive ones are flagged ``is_predictive``)."""
        data = self.json("GET", "/3/cohorts")
        with expect_shape(self.provider, "GET /3/cohorts"):
            cohorts = [shapes.cohort_summary(c) for c in data["cohorts"]]
        return {"cohorts": cohorts[: params.limit], "total": len(cohorts)}

    def _request_cohort(self, params: Any, steps: StepLog) -> str:
        """The export request of this job: the stored one, or a new one stored before polling."""
        if request_id := steps.get("cohort_request_id"):
            return str(request_id)
        steps.progress("requesting cohort export", 5.0)
        query: dict[str, Any] = {}
        if params.include_properties or params.property_keys:
            query = {"props": 1, "propKeys": params.property_keys} if params.property_keys else {"props": 1}
        data = self.json("GET", f"/5/cohorts/request/{params.cohort_id}", params=query)
        request_id = str(require(data, "request_id", self.provider, "GET /5/cohorts/request/{id}"))
        steps.put("cohort_request_id", request_id)
        return request_id

    def _await_cohort(self, request_id: str, steps: StepLog) -> None:
        """Poll until ``JOB COMPLETED``; past the timeout the job is retried and resumes this request."""
        polls = 0

        def done(status: str) -> bool:
            nonlocal polls
            if status == "JOB COMPLETED":
                return True
            if "FAIL" in status.upper() or "ERROR" in status.upper():
                steps.put("cohort_request_id", None)
                raise ProviderRejected(f"amplitude cohort export {request_id} ended with {status!r}")
            if status != "JOB INPROGRESS":
                raise MalformedResponse(f"amplitude cohort export {request_id} has unknown status {status!r}")
            polls += 1
            steps.progress(f"waiting for the cohort export ({polls} polls)", min(80.0, 10.0 + 5 * polls))
            return False

        poll(lambda: self._cohort_status(request_id), done,
             interval=self.POLL_INTERVAL, timeout=self.POLL_TIMEOUT,
             what=lambda _: f"amplitude cohort export {request_id} still in progress")

    def _cohort_status(self, request_id: str) -> str:
        """The ``async_status`` of a cohort export request."""
        data = self.json("GET", f"/5/cohorts/request-status/{request_id}")
        return str(require(data, "async_status", self.provider, "GET /5/cohorts/request-status/{id}"))

    def _cohort_file(self, request_id: str) -> str:
        """The cohort file: inline for small cohorts, else from the pre-signed S3 link it redirects to."""
        response = self.request("GET", f"/5/cohorts/request/{request_id}/file")
        if response.status_code not in REDIRECTS:
            return response.text
        location = response.headers.get("location")
        if not location:
            raise MalformedResponse("amplitude redirected the cohort file without a Location")
        try:
            with self._presigned():
                return self.request("GET", str(response.url.join(location))).text
        except AuthError:  # S3 links live one minute: a fresh one comes with the retry
            raise ProviderUnavailable("amplitude cohort download link expired; the retry fetches a new one") \
                from None

    def action_get_cohort(self, params: Any, steps: StepLog) -> dict[str, Any]:
        """Cohort members: request, poll and download, resumable at each step."""
        resumed = steps.get("cohort_request_id") is not None
        request_id = self._request_cohort(params, steps)
        try:
            self._await_cohort(request_id, steps)
        except ProviderRejected as exc:
            if exc.status != 404 or not resumed:
                raise
            steps.put("cohort_request_id", None)  # the stored request expired (kept 7 days): ask again once
            request_id = self._request_cohort(params, steps)
            self._await_cohort(request_id, steps)
        steps.progress("downloading cohort members", 90.0)
        columns, rows, count = shapes.members(self._cohort_file(request_id), params.limit)
        steps.progress("cohort downloaded", 100.0)
        return {"cohort_id": params.cohort_id, "request_id": request_id, "member_count": count,
                "returned": len(rows), "columns": columns, "members": rows}


def _code(value: Any) -> str | None:
    return str(value) if value else None


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = AmplitudeClient
