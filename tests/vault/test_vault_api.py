"""workers.vault.api (the small Vault client over httpx): each status maps to the error hvac raised, the
session turns those into Sintra's errors as before, and no error carries Vault's response text."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from workers.errors import CredentialsUnavailable, PermanentError, TransientError, VaultUnavailable
from workers.vault import api
from workers.vault.client import VaultForbidden, VaultLoginFailed, VaultRequestFailed, VaultSession

if TYPE_CHECKING:
    from conftest import Vault

LEAK = "VAULT-RESPONSE-TEXT-3f9c"


class _Answers(BaseHTTPRequestHandler):
    """Answers every request with the server's next (status, body); logs in anyone."""

    def _answer(self) -> None:
        server: Any = self.server
        length = int(self.headers.get("Content-Length") or 0)
        server.seen.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))
        if self.path == "/v1/auth/approle/login":
            status, body = 200, json.dumps({"auth": {"client_token": "s.tok", "accessor": "acc",
                                                     "lease_duration": 0, "renewable": False}}).encode()
        else:
            status, body = server.answer
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    server.seen, server.answer = [], (200, b"{}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.addr = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def _body(status: int) -> tuple[int, bytes]:
    return status, json.dumps({"errors": [f"something {LEAK}"]}).encode()


@pytest.mark.parametrize(("status", "exc"), [
    (400, api.InvalidRequest), (401, api.Unauthorized), (403, api.Forbidden), (404, api.InvalidPath),
    (405, api.UnsupportedOperation), (412, api.PreconditionFailed), (429, api.RateLimitExceeded),
    (500, api.InternalServerError), (501, api.VaultNotInitialized), (502, api.BadGateway), (503, api.VaultDown),
    (418, api.UnexpectedError)])
def test_each_status_raises_the_error_hvac_raised_without_the_response_text(
        fake: Any, status: int, exc: type[api.VaultError]) -> None:
    fake.answer = _body(status)
    with pytest.raises(exc) as info:
        api.VaultAPI(fake.addr, token="s.t").kv_read("secret", "agents/a/tenants/w/i")
    assert type(info.value) is exc and LEAK not in str(info.value)
    assert "GET /v1/secret/data/agents/a/tenants/w/i" in str(info.value)
    method, path, headers, _ = fake.seen[-1]
    assert (method, path) == ("GET", "/v1/secret/data/agents/a/tenants/w/i")
    assert headers["X-Vault-Token"] == "s.t" and headers["X-Vault-Request"] == "true"


@pytest.mark.parametrize(("status", "raised"), [
    (429, VaultUnavailable), (500, VaultUnavailable), (501, VaultUnavailable), (502, VaultUnavailable),
    (503, VaultUnavailable), (418, VaultUnavailable), (404, CredentialsUnavailable), (400, VaultRequestFailed),
    (405, VaultRequestFailed), (412, VaultRequestFailed), (403, VaultForbidden), (401, VaultForbidden)])
def test_session_maps_each_status_as_before(fake: Any, status: int, raised: type[Exception]) -> None:
    fake.answer = _body(status)
    session = VaultSession(fake.addr, "role", "secret-id-value", identity="emmie")
    with pytest.raises(raised) as info:
        session.call(lambda c: c.kv_read("secret", "agents/emmie/tenants/w/i"), path="agents/emmie/tenants/w/i")
    exc = info.value
    assert isinstance(exc, TransientError if raised is VaultUnavailable else PermanentError)
    assert "secret/agents/emmie/tenants/w/i" in str(exc) and LEAK not in str(exc)
    assert exc.__cause__ is None and exc.__suppress_context__
    logins = [s for s in fake.seen if s[1] == "/v1/auth/approle/login"]
    assert len(logins) == (2 if status in (401, 403) else 1)  # denied: one fresh login, then permanent
    assert "X-Vault-Token" not in logins[-1][2]  # a login sends no (possibly revoked) token


def test_a_success_that_is_not_json_is_transient(fake: Any) -> None:
    fake.answer = (200, b"<html>proxy</html>")
    session = VaultSession(fake.addr, "role", "secret")
    with pytest.raises(VaultUnavailable, match="UnexpectedError"):
        session.call(lambda c: c.kv_read("secret", "p"), path="p")


def test_write_sends_check_and_set_only_when_given(fake: Any) -> None:
    fake.answer = (200, json.dumps({"data": {"version": 3}}).encode())
    client = api.VaultAPI(fake.addr, token="s.t")
    assert client.kv_write("secret", "p", {"a": "b"}, cas=2)["data"]["version"] == 3
    assert json.loads(fake.seen[-1][3]) == {"options": {"cas": 2}, "data": {"a": "b"}}
    client.kv_write("secret", "p", {"a": "b"})
    assert json.loads(fake.seen[-1][3]) == {"options": {}, "data": {"a": "b"}}
    fake.answer = (204, b"")
    client.kv_delete_all("secret", "p")
    assert fake.seen[-1][:2] == ("DELETE", "/v1/secret/metadata/p")


def test_a_soft_deleted_version_is_unavailable_without_its_custom_metadata(
        vault: Vault, workspace: str, canary: str) -> None:
    path = f"agents/emmie/tenants/{workspace}/mailchimp"
    vault.admin.secrets.kv.v2.create_or_update_secret(path, secret={"api_key": "k"})
    vault.admin.secrets.kv.v2.update_metadata(path, custom_metadata={"note": canary})
    vault.admin.secrets.kv.v2.delete_latest_version_of_secret(path)
    client = api.VaultAPI(vault.server.addr, token=vault.server.root_token)
    with pytest.raises(api.InvalidPath) as info:  # Vault answers 404 with the metadata in the body
        client.kv_read("secret", path)
    assert canary not in str(info.value)
    assert client.kv_metadata("secret", path)["data"]["custom_metadata"] == {"note": canary}
    session = vault.session("emmie")
    with pytest.raises(CredentialsUnavailable) as unavailable:
        session.call(lambda c: c.kv_read("secret", path), path=path)
    assert canary not in str(unavailable.value)


def test_login_refused_by_the_real_server_is_permanent(vault: Vault) -> None:
    session = VaultSession(vault.server.addr, "no-such-role", "no-such-secret", identity="emmie")
    with pytest.raises(VaultLoginFailed):
        session.call(lambda c: c.lookup_self())


def test_a_worker_process_no_longer_loads_hvac_or_requests() -> None:
    code = ("import sys, workers.credentials.vault, workers.vault.writer, workers.vault.webhook_secrets\n"
            "print(sorted(m for m in ('hvac', 'requests', 'urllib3') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
