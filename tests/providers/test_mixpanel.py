"""MixpanelClient against the simulator over real HTTP: regions, errors, reports and the resumable export."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from config.catalog.integrations.mixpanel import SPEC
from config.providers import definition
from simulator.urls import BASES
from tests.providers.cases.mixpanel import BAD, GOOD, WEEK
from workers.credentials.base import Credentials
from workers.errors import (
    AuthError,
    CredentialsUnavailable,
    IntegrationUnavailable,
    MalformedResponse,
    ProviderRejected,
    RateLimited,
)
from workers.providers._mixpanel_shapes import equals, windows
from workers.providers.base import DEFAULT_RETRY_AFTER, MemorySteps
from workers.providers.mixpanel import MixpanelClient

EXPORT = BASES["mixpanel"] + "/2.0/export"


def creds(**values: str) -> Credentials:
    return Credentials({**GOOD, **values}, secret_fields=SPEC.secret_fields)


def make(base: str, **values: str) -> MixpanelClient:
    return MixpanelClient(http=httpx.Client(base_url=base, timeout=10), credentials=creds(**values))


@pytest.fixture
def client(simulator: Any) -> Iterator[MixpanelClient]:
    c = make(simulator.url + BASES["mixpanel"])
    yield c
    c.http.close()


def run(client: MixpanelClient, action: str, steps: Any = None, **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(**params), steps or MemorySteps())


class SimulatedCrash(Exception):
    """The worker died after storing some export windows."""


class CrashAfter(MemorySteps):
    """Steps that crash once ``n`` export windows are stored."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.left = n

    def put(self, key: str, value: Any) -> None:
        if self.left == 0:
            raise SimulatedCrash(key)
        super().put(key, value)
        self.left -= 1


# -- connection, auth and regions ----------------------------------------------------------------------
def test_connection_names_the_service_account_and_project(client: MixpanelClient) -> None:
    facts = client.test_connection()
    assert facts["service_account"] == GOOD["service_account_username"]
    assert facts["project_name"] == "Simulated project" and facts["region"] == "us"
    assert GOOD["service_account_secret"] not in repr(facts)


def test_bad_secret_is_an_auth_error_with_mixpanels_message(simulator: Any) -> None:
    with pytest.raises(AuthError) as err:
        make(simulator.url + BASES["mixpanel"], **BAD).test_connection()
    assert err.value.status == 401 and "service account" in err.value.message
    assert BAD["service_account_secret"] not in err.value.message


def test_connection_refuses_a_project_the_account_cannot_read(simulator: Any) -> None:
    with pytest.raises(AuthError, match="cannot read project 999"):
        make(simulator.url + BASES["mixpanel"], project_id="999").test_connection()


def test_query_on_a_foreign_project_is_an_auth_error(simulator: Any) -> None:
    with pytest.raises(AuthError) as err:
        run(make(simulator.url + BASES["mixpanel"], project_id="999"), "segmentation", event="Signed up",
            **WEEK)
    assert err.value.status == 403


def test_missing_project_id_is_a_credential_problem(simulator: Any) -> None:
    values = {k: v for k, v in GOOD.items() if k != "project_id"}
    client = MixpanelClient(http=httpx.Client(base_url=simulator.url + BASES["mixpanel"]),
                            credentials=Credentials(values, secret_fields=SPEC.secret_fields))
    with pytest.raises(CredentialsUnavailable):
        run(client, "segmentation", event="Signed up", **WEEK)


@pytest.mark.parametrize(("region", "query", "export"), [
    ("us", definition("mixpanel").base_url, "https://data.mixpanel.com/api/2.0/export"),
    ("EU", "https://eu.mixpanel.com/api", "https://data-eu.mixpanel.com/api/2.0/export"),
    ("in", "https://in.mixpanel.com/api", "https://data-in.mixpanel.com/api/2.0/export"),
])
def test_region_picks_the_query_and_export_hosts(region: str, query: str, export: str) -> None:
    base = MixpanelClient.resolve_base_url(SPEC.base_url, creds(region=region))
    assert base == query
    assert make(base, region=region).export_url() == export


def test_unknown_region_is_a_credential_problem() -> None:
    with pytest.raises(CredentialsUnavailable, match="us, eu, in"):
        MixpanelClient.resolve_base_url(SPEC.base_url, creds(region="apac"))


def test_workspace_id_is_sent_with_every_query() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": {"series": [], "values": {}}, "legend_size": 0})

    client = MixpanelClient(http=httpx.Client(base_url=definition("mixpanel").base_url,
                                              transport=httpx.MockTransport(handler)),
                            credentials=creds(workspace_id="777"))
    run(client, "segmentation", event="Signed up", **WEEK)
    assert seen[0].url.params["project_id"] == "12345" and seen[0].url.params["workspace_id"] == "777"
    assert seen[0].headers["authorization"].startswith("Basic ")


# -- errors and throttling ---------------------------------------------------------------------------
def test_error_inside_a_200_is_a_rejection(client: MixpanelClient, sim: Any) -> None:
    sim.fault("mixpanel", 200, body='{"error": "unknown event", "status": "error"}',
              content_type="application/json")
    with pytest.raises(ProviderRejected, match="unknown event"):
        run(client, "segmentation", event="Signed up", **WEEK)


def test_bad_request_carries_mixpanels_error_text(client: MixpanelClient) -> None:
    with pytest.raises(ProviderRejected, match="bookmark_id does not match") as err:
        run(client, "insights", bookmark_id=424242)
    assert err.value.status == 400


def test_429_without_retry_after_waits_the_default(client: MixpanelClient, sim: Any) -> None:
    sim.fault("mixpanel", 429)
    with pytest.raises(RateLimited) as err:
        run(client, "segmentation", event="Signed up", **WEEK)
    assert err.value.retry_after == DEFAULT_RETRY_AFTER and "60 queries per hour" in err.value.message


def test_429_honours_retry_after(client: MixpanelClient, sim: Any) -> None:
    sim.fault("mixpanel", 429, retry_after=7)
    with pytest.raises(RateLimited) as err:
        run(client, "funnels", funnel_id=7509, **WEEK)
    assert err.value.retry_after == 7


# -- reports -----------------------------------------------------------------------------------------
def test_segmentation_has_no_week_unit() -> None:
    with pytest.raises(ValidationError):
        SPEC.action("segmentation").params(event="Signed up", unit="week", **WEEK)


def test_segmentation_totals_sum_each_series(client: MixpanelClient) -> None:
    result = run(client, "segmentation", event="Signed up", type="unique", **WEEK)
    assert list(result["values"]) == ["Signed up"] and result["dates"][0] == "2026-09-01"
    assert result["totals"]["Signed up"] == sum(result["values"]["Signed up"].values())


def test_funnel_steps_fall_off_in_order(client: MixpanelClient) -> None:
    result = run(client, "funnels", funnel_id=7509, unit="week", **WEEK)
    steps = result["days"][0]["steps"]
    assert [s["event"] for s in steps] == ["App Open", "Signed up", "Purchase"]
    assert steps[0]["count"] >= steps[1]["count"] >= steps[2]["count"]


def test_retention_gives_rates_per_cohort(client: MixpanelClient) -> None:
    result = run(client, "retention", born_event="Signed up", interval_count=3, **WEEK)
    first = result["cohorts"][0]
    assert len(result["cohorts"]) == 7 and len(first["counts"]) == 4
    assert first["rates"][0] == round(first["counts"][0] / first["first"], 4)


def test_birth_retention_needs_a_born_event(client: MixpanelClient, sim: Any) -> None:
    with pytest.raises(ValidationError, match="born_event"):  # the parameter model refuses it, as the API does
        run(client, "retention", **WEEK)
    assert sim.calls("mixpanel") == []


def test_experiment_breakdown_filters_on_the_experiment() -> None:
    assert equals('Exp "A"', "x") == 'properties["Exp \\"A\\""] == "x"'


def test_experiment_breakdown_shares_add_up(client: MixpanelClient) -> None:
    result = run(client, "experiment_breakdown", event="Purchase", experiment="Pricing test",
                 variant_property="Variant name", **WEEK)
    control, variant = result["variants"]
    assert control["total"] == sum(control["series"].values())
    assert control["share"] + variant["share"] == pytest.approx(1, abs=0.001)


def test_flows_is_restricted_and_refused(client: MixpanelClient) -> None:
    action = SPEC.action("flows")
    assert action is not None and action.restricted and "no Flows endpoint" in action.restricted
    with pytest.raises(IntegrationUnavailable):
        run(client, "flows", start_event="Signed up", **WEEK)


# -- raw export --------------------------------------------------------------------------------------
def test_windows_cut_a_range_into_at_most_n_parts() -> None:
    parts = windows(date(2026, 1, 1), date(2026, 12, 31), 10)
    assert len(parts) == 10 and parts[0][0] == date(2026, 1, 1) and parts[-1][1] == date(2026, 12, 31)
    assert all(b[0] == a[1].fromordinal(a[1].toordinal() + 1) for a, b in zip(parts, parts[1:], strict=False))
    assert windows(date(2026, 1, 1), date(2026, 1, 1), 10) == [(date(2026, 1, 1), date(2026, 1, 1))]


def test_export_reports_progress_per_window(client: MixpanelClient, sim: Any) -> None:
    steps = MemorySteps()
    result = run(client, "export_events", steps, limit=1000, **WEEK)
    assert result["count"] == 7 * 30 and result["windows"] == 7 and not result["limit_reached"]
    assert len(sim.calls("mixpanel", "GET", path=EXPORT)) == 7
    assert steps.seen[-1][1] == 100.0 and len(steps.seen) == 7


def test_export_stops_when_the_limit_is_reached(client: MixpanelClient, sim: Any) -> None:
    result = run(client, "export_events", limit=40, events=["Viewed page"], **WEEK)
    assert result["count"] == 40 and result["limit_reached"]
    assert {e["event"] for e in result["events"]} == {"Viewed page"}
    assert len(sim.calls("mixpanel", "GET", path=EXPORT)) == 5  # 8 a day: the 5th window fills it


def test_export_resumes_after_a_worker_restart_without_refetching(client: MixpanelClient, sim: Any) -> None:
    crashing = CrashAfter(3)
    with pytest.raises(SimulatedCrash):
        run(client, "export_events", crashing, limit=1000, **WEEK)
    retry = MemorySteps(values=dict(crashing.values), marker=crashing.marker)
    result = run(client, "export_events", retry, limit=1000, **WEEK)
    assert len(sim.calls("mixpanel", "GET", path=EXPORT)) == 4 + 4  # 3 stored + 1 lost, then the 4 left
    assert result == run(client, "export_events", limit=1000, **WEEK)


def test_export_filters_with_where(client: MixpanelClient) -> None:
    result = run(client, "export_events", where='properties["$browser"] == "Safari"', **WEEK)
    assert result["count"] == 70 and {e["properties"]["$browser"] for e in result["events"]} == {"Safari"}


def test_export_line_that_is_not_json_is_malformed(client: MixpanelClient, sim: Any) -> None:
    sim.fault("mixpanel", 200, path=EXPORT, body='{"event": "ok", "properties": {}}\n<html>oops</html>\n')
    with pytest.raises(MalformedResponse, match="line 2"):
        run(client, "export_events", **WEEK)


def test_export_range_must_not_run_backwards(client: MixpanelClient) -> None:
    with pytest.raises(ValidationError, match="to_date"):  # the parameter model refuses it, as the API does
        run(client, "export_events", from_date="2026-09-07", to_date="2026-09-01")


def test_the_export_api_gets_no_workspace_id_even_when_one_is_configured(simulator: Any) -> None:
    """workspace_id is a Query API parameter; the Export API takes project_id only (the simulator refuses it)."""
    client = make(simulator.url + BASES["mixpanel"], workspace_id="777")
    result = run(client, "export_events", MemorySteps(), limit=10, **WEEK)
    assert result["count"] == 10
    client.http.close()
