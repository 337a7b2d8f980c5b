"""The generic layer builds what the worker's executor reads: error paths round-trip, pages follow the
definition's params. Providers come from the catalog's definitions, never a list."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from config.catalog import agents
from config.providers import definition
from simulator.generic import Sim, encode_cursor, put
from workers.providers._definition import json_path

PROVIDERS = sorted({i.provider for a in agents() for i in a.integrations})


@pytest.mark.parametrize("provider", PROVIDERS)
def test_error_paths_round_trip_through_the_clients_reader(provider: str) -> None:
    errors = definition(provider).errors
    for path in (*errors.message, *errors.code):
        assert json_path(put(None, path, "value at " + path), path) == "value at " + path, path
    body = Sim(provider).error_body(400, "the message", "the_code")
    assert json_path(body, errors.message[0]) == "the message"
    if errors.code:
        assert json_path(body, errors.code[0]) == "the_code"
    if errors.in_200 is not None and errors.in_200.error:  # the body also says "error" the 2xx way
        assert errors.in_200.failed(json_path(body, errors.in_200.path))


def _request(query: dict[str, str]) -> Request:
    raw = "&".join(f"{k}={v}" for k, v in query.items()).encode()
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": raw, "headers": []})


PAGED = [p for p in PROVIDERS if definition(p).pagination.style in ("offset", "page", "cursor")
         and definition(p).pagination.cursor_param]


@pytest.mark.parametrize("provider", PAGED)
def test_page_reads_the_definitions_params(provider: str) -> None:
    paging, sim = definition(provider).pagination, Sim(provider)
    items: list[Any] = list(range(10))
    first = sim.page(_request({paging.limit_param: "3"}), items, default=5)
    assert first.items == [0, 1, 2] and first.more and first.total == 10
    def at(position: int, size: int) -> str:  # how a client asks for the page starting at ``position``
        return {"offset": str(position), "page": str(position // size + 1),
                "cursor": encode_cursor(position)}[paging.style]

    page = sim.page(_request({paging.limit_param: "3", paging.cursor_param: at(3, 3)}), items, default=5)
    assert page.items == [3, 4, 5]
    last = sim.page(_request({paging.limit_param: "4", paging.cursor_param: at(8, 4)}), items, default=5)
    assert last.items == [8, 9] and not last.more
    assert sim.page(_request({}), items, default=5).items == [0, 1, 2, 3, 4]
