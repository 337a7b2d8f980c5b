"""SSRF: no tenant-chosen credential value makes the worker reach an internal address.

A loopback listener stands in for every internal service (OpenBao, the simulator's control API, the
metadata service): it counts connections, and every vector must leave it at 0. The providers whose
host comes from a credential are *not* pointed at the simulator here, as in production.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.helpers import wait_job
from tests.security.helpers import LoopbackListener, production_hosts
from tests.stack import Stack
from workers.egress import EgressRefused, egress_transport
from simulator.urls import BASES


def _configure(stack: Stack, agent: str, integration: str, creds: dict[str, str]) -> httpx.Response:
    return stack.api.post(f"/api/integrations/{agent}/{integration}/configure", json={"credentials": creds},
                          headers=stack.headers())


SF_GOOD = {"client_id": "c", "client_secret": "s-secret-value", "refresh_token": "r-refresh-value",
           "access_token": "t-access-value", "instance_url": "https://acme.my.salesforce.com"}


def _api_vectors(port: int) -> list[tuple[str, str, dict[str, str], str]]:
    """(agent, integration, credentials, field) tuples the API must refuse."""
    return [
        ("buddy", "salesforce", {**SF_GOOD, "instance_url": f"http://127.0.0.1:{port}/v1/secret/data/x?x="},
         "instance_url"),
        ("buddy", "salesforce", {**SF_GOOD, "instance_url": f"https://acme.my.salesforce.com@127.0.0.1:{port}"},
         "instance_url"),
        ("buddy", "salesforce", {**SF_GOOD, "instance_url": f"https://127.0.0.1:{port}"}, "instance_url"),
        ("buddy", "salesforce", {**SF_GOOD, "instance_url": "http://169.254.169.254/latest/meta-data#"},
         "instance_url"),
        ("buddy", "salesforce", {**SF_GOOD, "instance_url": "https://acme.my.salesforce.com.localhost"},
         "instance_url"),
        ("cassie", "zendesk", {"subdomain": f"127.0.0.1:{port}/x#", "email": "a@b.example", "api_token": "tok12345"},
         "subdomain"),
        ("cassie", "freshdesk", {"domain": f"localhost:{port}/", "api_key": "key12345"}, "domain"),
        ("cassie", "intercom", {"access_token": "tok12345", "region": "us@127.0.0.1", "admin_id": "1"}, "region"),
    ]


def test_configure_refuses_every_host_choosing_vector_naming_the_field(stack: Stack) -> None:
    with LoopbackListener() as listener:
        for agent, integration, creds, name in _api_vectors(listener.port):
            r = _configure(stack, agent, integration, creds)
            assert r.status_code == 422, (creds, r.text)
            error = r.json()["error"]
            assert name in error["invalid"] and name in error["message"]
        assert listener.connections == 0


def test_worker_refuses_an_internal_instance_url_written_around_the_api(stack: Stack) -> None:
    """A value that reached Vault some other way is checked again before any URL is built from it."""
    with production_hosts(stack), LoopbackListener() as listener:
        assert _configure(stack, "buddy", "salesforce", SF_GOOD).status_code == 200
        writer = stack.api.app.state.writer()  # type: ignore[attr-defined]
        # expired access token too: the refresh (client secret, refresh token) must not go there either
        writer.write(stack.workspace, "buddy", "salesforce",
                     {**SF_GOOD, "instance_url": f"http://127.0.0.1:{listener.port}/x?", "expires_at": "1"})
        r = stack.api.post("/api/integrations/buddy/salesforce/connect", headers=stack.headers())
        body: dict[str, Any] = r.json()
        if r.status_code == 202:
            body = wait_job(stack, body["job_id"])["error"]
        assert "instance_url" in body["message"] and str(listener.port) not in body["message"]
        assert listener.connections == 0


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/", "http://localhost:{port}/", "http://[::1]:{port}/",
                                 "http://[::ffff:127.0.0.1]:{port}/", "http://2130706433:{port}/",
                                 "http://169.254.169.254/latest/meta-data/", "http://10.1.2.3:{port}/",
                                 "http://[fd00::1]:{port}/", "http://100.64.0.1:{port}/"])
def test_worker_transport_refuses_internal_addresses_after_resolution(url: str) -> None:
    with LoopbackListener() as listener:
        client = httpx.Client(transport=egress_transport({}), timeout=2)
        with pytest.raises(EgressRefused):
            client.get(url.format(port=listener.port))
        assert listener.connections == 0


def test_worker_transport_reaches_the_operators_own_provider_url() -> None:
    with LoopbackListener() as listener:
        base = f"http://127.0.0.1:{listener.port}"
        client = httpx.Client(transport=egress_transport({"zendesk": base + BASES["zendesk"]}), timeout=2)
        with pytest.raises(httpx.HTTPError):  # the listener never answers HTTP; it only counts
            client.get(base + BASES["zendesk"] + "/users/me.json")
        assert listener.connections == 1


def test_worker_pools_share_one_tls_context_that_verifies() -> None:
    """Each TLS context holds the CA bundle (about 1 MB): every pool of every shard uses the process's one."""
    import ssl

    from workers.egress import ShardedTransport, tls_context

    transport = egress_transport({}, concurrency=64)
    assert isinstance(transport, ShardedTransport) and len(transport._transports) == 16
    assert {id(t._pool._ssl_context) for t in transport._transports} == {id(tls_context())}  # type: ignore[attr-defined]
    assert tls_context().verify_mode == ssl.CERT_REQUIRED and tls_context().check_hostname
