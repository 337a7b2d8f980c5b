"""JasperClient against the simulator: commands, templates, voices, style guides and error shapes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from config.catalog.integrations.jasper import SPEC
from workers.credentials.base import Credentials
from workers.errors import AuthError, ProviderRejected, RateLimited
from workers.providers.base import MemorySteps
from workers.providers.jasper import JasperClient, command_body


def make_client(url: str, key: str = "jsp_key_0001") -> JasperClient:
    http = httpx.Client(base_url=url + "/jasper", timeout=10)
    creds = Credentials({"api_key": key}, secret_fields=SPEC.secret_fields)
    return JasperClient(http=http, credentials=creds)


@pytest.fixture
def client(simulator: Any) -> Iterator[JasperClient]:
    c = make_client(simulator.url)
    yield c
    c.http.close()


def run(client: JasperClient, action: str, steps: MemorySteps | None = None, **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(**params), steps or MemorySteps())


def test_connection_counts_voices_and_bad_key_is_auth_error(client: JasperClient, simulator: Any) -> None:
    assert client.test_connection()["tones"] == 12
    with pytest.raises(AuthError) as err:
        make_client(simulator.url, key="bad_key").test_connection()
    assert err.value.status == 401 and "X-API-Key" in err.value.message


def test_command_uses_voice_style_and_options(client: JasperClient) -> None:
    tone = run(client, "list_tones", limit=1)["tones"][0]
    style = run(client, "list_styles")["styles"][0]
    result = run(client, "run_command", command="Write a tagline for Acme", tone_id=tone["id"],
                 style_id=style["id"], options={"output_count": 3, "completion_type": "quality"})
    assert len(result["outputs"]) == 3 and result["text"].startswith("Write a tagline for Acme")
    assert result["request_id"] and result["resumed"] is False


def test_command_body_is_jasper_camel_case() -> None:
    params = SPEC.action("run_command").params(
        command="Write a blog intro about trail shoes", context="For beginners", knowledge_ids=["kno_1"],
        retrieval_add_on="webSearch", search_query="best trail running shoes 2026", search_max_results=3)
    body = command_body(params)
    assert body["inputs"] == {"command": "Write a blog intro about trail shoes", "context": "For beginners",
                              "knowledgeIds": ["kno_1"], "retrievalAddOn": "webSearch"}
    assert body["options"]["webSearch"] == {"searchQuery": "best trail running shoes 2026", "maxResults": 3}
    assert body["options"]["completionType"] == "performance" and "webScraper" not in body["options"]


def test_add_on_options_need_their_add_on() -> None:
    params = SPEC.action("run_command").params
    with pytest.raises(ValidationError, match="webScraper"):
        params(command="x", scrape_urls=["https://acme.example"])
    with pytest.raises(ValidationError, match="webSearch"):
        params(command="x", search_query="acme")


def test_a_retried_generation_returns_the_stored_outputs(client: JasperClient, sim: Any) -> None:
    steps = MemorySteps()
    first = run(client, "run_command", steps, command="Write a haiku about rabbits")
    again = run(client, "run_command", steps, command="Write a haiku about rabbits")
    assert again["outputs"] == first["outputs"] and again["resumed"] is True
    assert len(sim.calls("jasper", "POST", path="/jasper/v1/command")) == 1


def test_template_run_checks_required_inputs(client: JasperClient) -> None:
    template = run(client, "list_templates")["templates"][0]
    assert template["inputs"][0] == {"key": "productName", "type": "string", "required": True,
                                     "label": "productName", "max_length": 100}
    result = run(client, "run_template", template_id=template["id"], inputs={"productName": "Snooze"},
                 options={"output_count": 2})
    assert result["template_id"] == template["id"] and len(result["outputs"]) == 2
    with pytest.raises(ProviderRejected, match="productName is required") as err:
        run(client, "run_template", template_id=template["id"], inputs={"productDescription": "x"})
    assert err.value.status == 400 and err.value.provider_code == "content"


def test_unknown_template_or_voice_is_rejected(client: JasperClient) -> None:
    with pytest.raises(ProviderRejected) as err:
        run(client, "run_template", template_id="skl_nope", inputs={"productName": "x"})
    assert err.value.status == 404
    with pytest.raises(ProviderRejected, match="toneId"):
        run(client, "run_command", command="x", tone_id="ton_unknown")


def test_voices_page_with_a_fixed_size_and_honour_limit(client: JasperClient, sim: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(JasperClient, "PAGE_SIZE", 5)
    listed = run(client, "list_tones", limit=12)
    assert listed["count"] == 12 and listed["total"] == 12
    assert len({t["id"] for t in listed["tones"]}) == 12
    assert len(sim.calls("jasper", "GET", path="/jasper/v1/tones")) == 3
    assert run(client, "list_tones", limit=7)["count"] == 7


def test_voices_filter_by_name(client: JasperClient) -> None:
    listed = run(client, "list_tones", query="name: Bold")
    assert [t["name"] for t in listed["tones"]] == ["Bold"]


def test_style_guides_carry_terms_and_rules(client: JasperClient) -> None:
    styles = run(client, "list_styles", limit=1)["styles"]
    assert len(styles) == 1 and styles[0]["terms"][0]["replaceWith"] == "use" and styles[0]["rules"]


def test_throttle_honours_retry_after_or_waits_a_minute(client: JasperClient, sim: Any) -> None:
    sim.fault("jasper", 429, path="/jasper", retry_after=4)
    with pytest.raises(RateLimited) as err:
        run(client, "list_styles")
    assert err.value.retry_after == 4
    sim.fault("jasper", 429, path="/jasper")
    with pytest.raises(RateLimited) as err:
        run(client, "list_styles")
    assert err.value.retry_after == 60.0
