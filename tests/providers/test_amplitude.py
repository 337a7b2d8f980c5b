"""AmplitudeClient against the simulator over real HTTP: regions, errors, paging and cohort downloads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from config.catalog.integrations.amplitude import SPEC
from config.providers import definition
from simulator.urls import BASES
from tests.providers.cases.amplitude import ALICE, BAD, GOOD
from workers.credentials.base import Credentials
from workers.errors import (
    AuthError,
    CredentialsUnavailable,
    IntegrationUnavailable,
    MalformedResponse,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
)
from workers.providers.amplitude import AmplitudeClient
from workers.providers.base import DEFAULT_RETRY_AFTER, MemorySteps

WEEK = {"start": "2026-09-01", "end": "2026-09-07"}
REQUEST = BASES["amplitude"] + "/5/cohorts/request/"


def make(base: str, **values: str) -> AmplitudeClient:
    creds = Credentials({**GOOD, **values}, secret_fields=SPEC.secret_fields)
    return AmplitudeClient(http=httpx.Client(base_url=base, timeout=10), credentials=creds)


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AmplitudeClient, "POLL_INTERVAL", 0.01)


@pytest.fixture
def client(simulator: Any) -> Iterator[AmplitudeClient]:
    c = make(simulator.url + BASES["amplitude"])
    yield c
    c.http.close()


def run(client: AmplitudeClient, action: str, steps: Any = None, **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(**params), steps or MemorySteps())


def requests_made(sim: Any, cohort_id: str) -> int:
    return len(sim.calls("amplitude", "GET", path=REQUEST + cohort_id))


class SimulatedCrash(Exception):
    """The worker died while the cohort export was being downloaded."""


class CrashOnDownload(MemorySteps):
    """Steps whose job dies when it reaches the download."""

    def progress(self, step: str, pct: float | None = None) -> None:
        if step.startswith("downloading"):
            raise SimulatedCrash(step)
        super().progress(step, pct)


# -- connection, auth and regions ----------------------------------------------------------------------
def test_connection_counts_event_types(client: AmplitudeClient) -> None:
    assert client.test_connection() == {"event_types": 5, "region": "us"}


def test_bad_secret_is_an_auth_error_with_amplitudes_text(simulator: Any) -> None:
    with pytest.raises(AuthError) as err:
        make(simulator.url + BASES["amplitude"], **BAD).test_connection()
    assert err.value.status == 401 and "Invalid API key" in err.value.message
    assert BAD["secret_key"] not in err.value.message


@pytest.mark.parametrize(("region", "base"), [("us", definition("amplitude").base_url),
                                              ("EU", "https://analytics.eu.amplitude.com/api")])
def test_region_picks_the_rest_host(region: str, base: str) -> None:
    creds = Credentials({**GOOD, "region": region}, secret_fields=SPEC.secret_fields)
    assert AmplitudeClient.resolve_base_url(SPEC.base_url, creds) == base


def test_unknown_region_is_a_credential_problem() -> None:
    creds = Credentials({**GOOD, "region": "apac"}, secret_fields=SPEC.secret_fields)
    with pytest.raises(CredentialsUnavailable):
        AmplitudeClient.resolve_base_url(SPEC.base_url, creds)


# -- errors and throttling ---------------------------------------------------------------------------
def test_429_names_the_limit_and_waits_the_default(client: AmplitudeClient, sim: Any) -> None:
    sim.fault("amplitude", 429)
    with pytest.raises(RateLimited) as err:
        run(client, "list_cohorts")
    assert err.value.retry_after == DEFAULT_RETRY_AFTER and err.value.provider_code == "concurrent_limit"
    assert "5 concurrent requests" in err.value.message


def test_429_honours_retry_after_when_sent(client: AmplitudeClient, sim: Any) -> None:
    sim.fault("amplitude", 429, retry_after=12)
    with pytest.raises(RateLimited) as err:
        run(client, "user_search", user="bob@example.com")
    assert err.value.retry_after == 12


def test_plain_text_400_is_a_rejection_with_its_text(client: AmplitudeClient) -> None:
    with pytest.raises(ProviderRejected, match="Invalid user") as err:
        run(client, "user_activity", amplitude_id=1)
    assert err.value.status == 400


# -- analytics -----------------------------------------------------------------------------------------
def test_segmentation_without_group_is_labelled_by_event(client: AmplitudeClient) -> None:
    result = run(client, "event_segmentation", event_type="Sign Up", interval="weekly", **WEEK)
    assert [s["label"] for s in result["series"]] == ["Sign Up"]
    assert result["x_values"] == ["2026-08-31", "2026-09-07"]


def test_property_metric_groups_the_event_by_the_property(client: AmplitudeClient) -> None:
    result = run(client, "event_segmentation", event_type="Purchase", metric="sums", group_by="price", **WEEK)
    assert [s["label"] for s in result["series"]] == ["0.99", "4.99", "9.99"]


def test_property_metric_without_group_by_is_refused_early(client: AmplitudeClient, sim: Any) -> None:
    with pytest.raises(ValidationError, match="group_by"):  # the parameter model refuses it, as the API does
        run(client, "event_segmentation", event_type="Purchase", metric="histogram", **WEEK)
    assert sim.calls("amplitude") == []


def test_user_search_without_match(client: AmplitudeClient) -> None:
    assert run(client, "user_search", user="nobody@example.com") == {
        "query": "nobody@example.com", "type": "nomatch", "matches": []}


def test_user_activity_pages_with_offset_up_to_the_limit(client: AmplitudeClient, sim: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AmplitudeClient, "PAGE_SIZE", 100)
    result = run(client, "user_activity", amplitude_id=ALICE, limit=250)
    ids = [e["event_id"] for e in result["events"]]
    assert result["count"] == 250 and ids == list(range(2500, 2250, -1))  # no gap, no repeat
    assert result["user"]["user_id"] == "alice@example.com"
    assert len(sim.calls("amplitude", "GET", path=BASES["amplitude"] + "/2/useractivity")) == 3


def test_user_activity_stops_at_the_end_of_the_stream(client: AmplitudeClient, sim: Any) -> None:
    result = run(client, "user_activity", amplitude_id=356893043037, limit=100, direction="earliest")
    assert result["count"] == 40 and result["events"][0]["event_id"] == 1
    assert len(sim.calls("amplitude", "GET", path=BASES["amplitude"] + "/2/useractivity")) == 1


# -- cohorts -------------------------------------------------------------------------------------------
def test_list_cohorts_shows_predictive_ones_and_caps(client: AmplitudeClient) -> None:
    result = run(client, "list_cohorts", limit=2)
    assert result["total"] == 3 and len(result["cohorts"]) == 2
    assert "definition" not in result["cohorts"][0]
    assert [c["is_predictive"] for c in run(client, "list_cohorts")["cohorts"]] == [False, False, True]


def test_get_cohort_requests_polls_and_downloads(client: AmplitudeClient, sim: Any) -> None:
    steps = MemorySteps()
    result = run(client, "get_cohort", steps, cohort_id="26umsb5", property_keys=["country"])
    assert result["member_count"] == 120 and result["columns"] == ["amplitude_id", "user_id", "country"]
    assert steps.values["cohort_request_id"] == result["request_id"]
    assert [p for _, p in steps.seen] == [5.0, 15.0, 20.0, 90.0, 100.0]
    assert len(sim.calls("amplitude", "GET", contains="/request-status/")) == 3


def test_get_cohort_resumes_the_stored_request_after_a_restart(client: AmplitudeClient, sim: Any) -> None:
    crashing = CrashOnDownload()
    with pytest.raises(SimulatedCrash):
        run(client, "get_cohort", crashing, cohort_id="26umsb5")
    retry = MemorySteps(values=dict(crashing.values), marker=crashing.marker)
    result = run(client, "get_cohort", retry, cohort_id="26umsb5")
    assert result["request_id"] == crashing.values["cohort_request_id"] and result["member_count"] == 120
    assert requests_made(sim, "26umsb5") == 1  # a download request counts against 500 a month


def test_poll_timeout_is_transient_and_keeps_the_request(client: AmplitudeClient, sim: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AmplitudeClient, "POLL_TIMEOUT", 0.0)
    steps = MemorySteps()
    with pytest.raises(ProviderUnavailable, match="still in progress"):
        run(client, "get_cohort", steps, cohort_id="26umsb5")
    monkeypatch.setattr(AmplitudeClient, "POLL_TIMEOUT", 30.0)
    assert run(client, "get_cohort", steps, cohort_id="26umsb5")["member_count"] == 120
    assert requests_made(sim, "26umsb5") == 1


def test_expired_stored_request_is_requested_again_once(client: AmplitudeClient, sim: Any) -> None:
    steps = MemorySteps(values={"cohort_request_id": "expired1"})
    result = run(client, "get_cohort", steps, cohort_id="26umsb5")
    assert result["request_id"] != "expired1" and steps.values["cohort_request_id"] == result["request_id"]
    assert requests_made(sim, "26umsb5") == 1


def test_large_cohort_comes_from_the_presigned_link_without_our_credentials(client: AmplitudeClient,
                                                                          sim: Any) -> None:
    result = run(client, "get_cohort", cohort_id="big9x1q", limit=10)
    assert result["member_count"] == 2500 and result["returned"] == 10
    assert sim.calls("amplitude", "GET", contains="/amplitude/s3/")[0]["status"] == 200


def test_unknown_cohort_is_rejected(client: AmplitudeClient) -> None:
    with pytest.raises(ProviderRejected) as err:
        run(client, "get_cohort", cohort_id="nope")
    assert err.value.status == 404


def test_cohort_file_without_member_header_is_malformed(client: AmplitudeClient, sim: Any) -> None:
    sim.fault("amplitude", 200, path="/file", body="<html>oops</html>")
    with pytest.raises(MalformedResponse, match="header"):
        run(client, "get_cohort", cohort_id="26umsb5")


def test_predictions_are_restricted_and_refused(client: AmplitudeClient) -> None:
    action = SPEC.action("predictive_analytics")
    assert action is not None and action.restricted and "get_cohort" in action.restricted
    with pytest.raises(IntegrationUnavailable):
        run(client, "predictive_analytics", prediction_id="p1")


# -- predictions (User Profile API) ----------------------------------------------------------------------
def test_user_propensity_as_score_and_percentile(client: AmplitudeClient) -> None:
    pct = run(client, "user_propensity", prediction_ids=["0x10x", "0x11x"], device_id="dev-bob-1")
    score = run(client, "user_propensity", prediction_ids=["0x10x"], user_id="bob@example.com",
                propensity_type="score")
    assert [p["prediction_id"] for p in pct["propensities"]] == ["0x10x", "0x11x"]
    assert pct["propensities"][0]["value"] == int(score["propensities"][0]["value"] * 100)
    assert score["user_id"] == "bob@example.com" and score["propensities"][0]["type"] == "score"


def test_user_propensity_of_an_unknown_prediction_is_empty(client: AmplitudeClient) -> None:
    result = run(client, "user_propensity", prediction_ids=["nope"], user_id="bob@example.com")
    assert result["propensities"] == [{"prediction_id": "nope", "value": None, "type": "pct"}]


def test_user_propensity_needs_a_user_or_device() -> None:
    with pytest.raises(ValueError, match="user_id or device_id"):
        SPEC.action("user_propensity").params(prediction_ids=["0x10x"])


def test_unknown_profile_user_is_rejected_with_amplitudes_error(client: AmplitudeClient) -> None:
    with pytest.raises(ProviderRejected, match="not seen before"):
        run(client, "user_propensity", prediction_ids=["0x10x"], user_id="ghost@example.com")


def test_profile_api_error_inside_a_200(client: AmplitudeClient, sim: Any) -> None:
    sim.fault("amplitude", 200, path="/v1/userprofile", content_type="application/json",
              body='{"error": "User id and device id not seen before"}')
    with pytest.raises(ProviderRejected, match="not seen before"):
        run(client, "user_propensity", prediction_ids=["0x10x"], user_id="bob@example.com")


def test_profile_api_minute_limit_is_a_throttle(client: AmplitudeClient, sim: Any) -> None:
    sim.fault("amplitude", 200, path="/v1/userprofile", content_type="application/json",
              body='{"error": "Number of requests per minute exceeds system limit. Contact Support"}')
    with pytest.raises(RateLimited) as err:
        run(client, "user_propensity", prediction_ids=["0x10x"], user_id="bob@example.com")
    assert err.value.retry_after == 60


def test_profile_api_rejects_a_bad_secret(simulator: Any) -> None:
    with pytest.raises(AuthError, match="Invalid Api-Key"):
        run(make(simulator.url + BASES["amplitude"], **BAD), "user_propensity", prediction_ids=["0x10x"],
            user_id="bob@example.com")


def test_profile_api_lives_on_its_own_host_and_not_in_the_eu() -> None:
    profile = "https://profile-api.amplitude.com/v1/userprofile"
    assert make(definition("amplitude").base_url).profile_url() == profile
    with pytest.raises(IntegrationUnavailable, match="EU"):
        make("https://analytics.eu.amplitude.com/api").profile_url()
