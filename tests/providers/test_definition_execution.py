"""The base client executes a definition: paging styles, rate-limit headers, error paths, auth modes."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from config.providers import definition
from workers.credentials.base import Credentials
from workers.errors import CredentialsUnavailable, ProviderRejected
from workers.providers import client_class
from workers.providers._definition import auth_headers, json_path
from workers.providers.base import ProviderClient


def _client(provider: str, answer: Any, **creds: str) -> tuple[ProviderClient, list[httpx.Request]]:
    """A client of ``provider`` whose HTTP answers come from ``answer(request)``; the requests are kept."""
    cls = client_class(provider)
    assert cls is not None
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answer(request)

    values = {"access_token": "tok", "expires_at": str(int(time.time()) + 3600), "api_key": "k-us1", **creds}
    http = httpx.Client(base_url="https://api.test", transport=httpx.MockTransport(handler))
    return cls(http=http, credentials=Credentials(values, secret_fields=frozenset({"api_key"}))), sent


def test_cursor_paging_follows_the_definitions_next_path() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        after = int(request.url.params.get("after") or 0)
        size = int(request.url.params["limit"])
        nxt = {"paging": {"next": {"after": str(after + size)}}} if after + size < 7 else {}
        return httpx.Response(200, json={"results": list(range(after, min(after + size, 7))), **nxt})

    client, sent = _client("hubspot", answer)
    assert client.paginate("/crm/v3/objects/deals", limit=10, page_size=3) == list(range(7))
    assert [r.url.params.get("after") for r in sent] == [None, "3", "6"]


def test_offset_paging_stops_on_a_short_page() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        offset, count = int(request.url.params["offset"]), int(request.url.params["count"])
        return httpx.Response(200, json=list(range(offset, min(offset + count, 5))))

    client, sent = _client("mailchimp", answer)
    assert client.paginate("/lists", limit=100, page_size=2) == [0, 1, 2, 3, 4]
    assert [r.url.params["offset"] for r in sent] == ["0", "2", "4"]


def test_next_link_paging_follows_the_link() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/more"):
            return httpx.Response(200, json={"records": [3]})
        return httpx.Response(200, json={"records": [1, 2], "nextRecordsUrl": "/query/more"})

    client, _ = _client("salesforce", answer, instance_url="https://acme.my.salesforce.com")
    assert client.paginate("/query", {"q": "SELECT Id FROM Account"}, limit=10) == [1, 2, 3]


def test_rate_limit_reads_the_definitions_headers_and_units() -> None:
    client, _ = _client("brevo", lambda r: httpx.Response(200))
    rl = client.rate_limit(httpx.Response(200, headers={"x-sib-ratelimit-limit": "10",
                                                       "x-sib-ratelimit-remaining": "0",
                                                       "x-sib-ratelimit-reset": "7"}))
    assert rl is not None and (rl.limit, rl.remaining, rl.reset_after) == (10, 0, 7.0)
    x, _ = _client("x", lambda r: httpx.Response(200))
    rl = x.rate_limit(httpx.Response(200, headers={"x-rate-limit-reset": str(int(time.time()) + 120)}))
    assert rl is not None and rl.reset_after == pytest.approx(120, abs=2)  # an epoch second, as a delay
    rl = x.rate_limit(httpx.Response(429, headers={"retry-after": "3", "x-rate-limit-reset": "0"}))
    assert rl is not None and rl.reset_after == 3.0  # Retry-After first


def test_an_error_inside_a_200_is_a_rejection_with_the_definitions_message() -> None:
    client, _ = _client("copy_ai", lambda r: httpx.Response(200, json={"status": "error", "errorCode": "E1",
                                                                       "message": "bad workflow"}))
    with pytest.raises(ProviderRejected) as info:
        client.request("GET", "/workflow/x")
    assert "bad workflow" in info.value.message and info.value.provider_code == "E1"


@pytest.mark.parametrize(("body", "path", "value"), [
    ({"error": {"message": "m"}}, "error.message", "m"), ({"errors": [{"code": 5}]}, "errors[0].code", 5),
    ([{"message": "x"}], "[0].message", "x"), ({"a": None}, "a.b", None), ({"e": []}, "e[0]", None)])
def test_json_paths(body: Any, path: str, value: Any) -> None:
    assert json_path(body, path) == value


def test_auth_modes_send_the_credential_the_definition_names() -> None:
    basic = auth_headers(definition("zendesk"), {"email": "a@b.c", "api_token": "t"})
    assert basic["Authorization"] == "Basic " + "YUBiLmMvdG9rZW46dA=="  # a@b.c/token:t
    assert auth_headers(definition("pipedrive"), {"api_token": "p"})["x-api-token"] == "p"
    assert auth_headers(definition("tiktok"), {"access_token": "a"})["Access-Token"] == "a"
    assert "on-behalf-of" not in auth_headers(definition("sendgrid"), {"api_key": "k"})
    assert auth_headers(definition("sendgrid"), {"api_key": "k", "on_behalf_of": "sub"})["on-behalf-of"] == "sub"
    with pytest.raises(CredentialsUnavailable, match="api_token"):
        auth_headers(definition("zendesk"), {"email": "a@b.c"})


def test_query_auth_adds_the_key_parameter() -> None:
    client, sent = _client("semrush", lambda r: httpx.Response(200, text="1"))
    client.request("GET", "/", params={"type": "phrase_this"})
    assert sent[0].url.params["key"] == "k-us1" and sent[0].url.params["type"] == "phrase_this"


def test_cursor_paging_stops_when_the_has_more_flag_is_false() -> None:
    """TikTok sends a cursor on its last page too; the definition's ``more`` flag ends the list there."""
    def answer(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("cursor") or 0)
        end = min(start + int(request.url.params["max_count"]), 5)
        data = {"videos": list(range(start, end)), "cursor": end, "has_more": end < 5}
        return httpx.Response(200, json={"code": 0, "message": "OK", "data": data})

    client, sent = _client("tiktok", answer, business_id="b1")
    assert client.paginate("/business/video/list/", {"business_id": "b1"}, limit=50, page_size=2) == list(range(5))
    assert [r.url.params.get("cursor") for r in sent] == [None, "2", "4"]
