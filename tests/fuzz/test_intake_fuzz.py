"""Hostile requests against every endpoint of the real WSGI app: never a 5xx, never a stored event,
never a configured secret in the answer or the logs.

Hypothesis draws malformed, oversized, wrongly encoded (bad UTF-8, cp1251 where UTF-8 is expected,
broken JSON and forms), unauthenticated and forged requests. Right credentials are paired only with
bodies that must still be refused, so the inbox (and the bank operations table) stays empty for the
whole run; `test_authenticated_oddities_*` checks well-formed but extreme content separately.
Example counts are bounded so the file runs in seconds; one pass goes over real HTTP (waitress).
"""
from __future__ import annotations

import json
import re
import socket
from typing import Any, Iterator
from urllib.parse import quote

import pytest
import requests
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relay.cli import _serve
from tests.fuzz import hostile
from tests.fuzz import strategies as fs
from tests.fuzz.hostile import Hostile
from tests.fuzz.world import B24_TOKEN, HMAC_SECRET, ONEC_TOKEN, PASSWORD, TG_SECRET, TOKEN_SECRET, FuzzRelay, leaked, sign_claims

FUZZ = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])


def send(client: FlaskClient, request: Hostile) -> Any:
    return client.open(request.path, method=request.method, data=request.body, headers=request.headers,
                       content_type=request.content_type or None)


def post(client: FlaskClient, path: str, body: bytes, headers: dict[str, str] | None = None, content_type: str = "") -> Any:
    return send(client, Hostile("POST", path, body, headers or {}, content_type))


def refused(relay: FuzzRelay, response: Any, allowed: tuple[int, ...] = ()) -> None:
    """The invariants of every hostile request."""
    assert response.status_code < 500 or response.status_code in allowed, (response.status_code, response.data[:300])
    assert not leaked(response.headers, response.data), response.data[:300]
    left = relay.forget()  # emptied at once, so the examples Hypothesis tries next start clean
    assert left == 0, f"a refused request left {left} row(s) behind (status {response.status_code})"


@pytest.mark.parametrize("endpoint", [hostile.webhook(), hostile.bitrix24(), hostile.telegram(), hostile.bank(), hostile.planfix(),
                                      hostile.forms()], ids=["webhook", "bitrix24", "telegram", "bank", "planfix", "forms"])
def test_hooks_refuse_forged_and_malformed_requests(relay: FuzzRelay, endpoint: st.SearchStrategy[Hostile]) -> None:
    @FUZZ
    @given(request=endpoint)
    def run(request: Hostile) -> None:
        response = send(relay.app.test_client(), request)
        refused(relay, response)
        if request.must_be_auth_refusal:
            assert response.status_code in (401, 403), (response.status_code, response.data[:200])
    run()


@FUZZ
@given(request=hostile.elsewhere())
def test_other_paths_and_methods(relay: FuzzRelay, request: Hostile) -> None:
    response = send(relay.app.test_client(), request)
    # /healthz answers 503 "degraded" by design while no worker is alive (none runs here); never 500.
    healthz = request.path.split("?")[0] == "/healthz" and request.method in ("GET", "HEAD")
    refused(relay, response, allowed=(503,) if healthz else ())
    if healthz and response.status_code == 503 and request.method == "GET":
        assert response.get_json()["status"] == "degraded"


# --- admin: login and forms ----------------------------------------------------------------------------

def csrf_of(client: FlaskClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/login").get_data(as_text=True))
    assert found
    return found.group(1)


def logged_in(client: FlaskClient) -> bool:
    return client.get("/admin/").status_code == 200


@FUZZ
@given(data=st.data())
def test_admin_login_refuses_every_wrong_form(relay: FuzzRelay, data: st.DataObject) -> None:
    client = relay.app.test_client()
    token = csrf_of(client) if data.draw(st.booleans(), label="fetch csrf") else ""
    csrf = data.draw(st.sampled_from(["right", "missing", "forged"]), label="csrf")
    shape = data.draw(st.sampled_from(["form", "raw"]), label="shape")
    if shape == "form":
        form: dict[str, Any] = {"password": data.draw(st.text(max_size=60).filter(lambda p: p != PASSWORD)),
                                "next": data.draw(st.text(max_size=60) | st.sampled_from(["//evil.example", "/admin\\@x", "javascript:x"]))}
        if csrf == "right" and token:
            form["csrf_token"] = token
        elif csrf == "forged":
            form["csrf_token"] = data.draw(st.text(max_size=50))
        response = client.post("/admin/login", data=form, headers=data.draw(fs.odd_headers))
    else:
        raw = data.draw(fs.bad_utf8 | fs.oversized | st.binary(max_size=300)
                        | st.just(f"csrf_token={token}&password=".encode() + "пароль".encode("cp1251")))
        response = post(client, "/admin/login", raw, data.draw(fs.odd_headers),
                        data.draw(fs.content_types | st.just("application/x-www-form-urlencoded")))
    refused(relay, response)
    assert response.status_code in (400, 401, 413, 429), response.status_code
    assert not logged_in(client)


def test_admin_pages_and_forms_when_logged_in(relay: FuzzRelay) -> None:
    relay.forget_failed_logins()
    client = relay.app.test_client()
    token = csrf_of(client)
    assert client.post("/admin/login", data={"csrf_token": token, "password": PASSWORD}).status_code == 302
    number = st.integers(min_value=-(2 ** 70), max_value=2 ** 70).map(str) | st.text(max_size=12)
    junk = st.text(max_size=40) | number
    pages = st.sampled_from(["/admin/", "/admin/events", "/admin/events/{n}", "/admin/entity", "/admin/dead", "/admin/timers",
                             "/admin/rules", "/admin/dead/{n}/retry", "/admin/timers/{n}/cancel", "/admin/static/{t}"])

    @FUZZ
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        page = data.draw(pages, label="page")
        path = page.replace("{n}", quote(data.draw(number, label="n"), safe="")).replace("{t}", data.draw(st.text(alphabet="./%abc", max_size=12)))
        query = data.draw(st.dictionaries(st.sampled_from(["page", "status", "source", "kind", "q", "key", "next"]), junk, max_size=4), label="query")
        if page.endswith(("retry", "cancel")):
            form = {"back": data.draw(junk)}
            if data.draw(st.booleans(), label="with csrf"):
                form["csrf_token"] = data.draw(st.just(token) | st.text(max_size=40))
            response = client.post(path, query_string=query, data=form)
        else:
            response = client.get(path, query_string=query)
        refused(relay, response)
        assert logged_in(client)  # nothing above may have ended or replaced the session
    run()


# --- authenticated, well-formed but extreme content: stored or refused, never a 5xx ---------------------

@FUZZ
@given(data=st.data())
def test_authenticated_oddities_are_stored_or_refused_never_5xx(relay: FuzzRelay, data: st.DataObject) -> None:
    text = st.text(max_size=300) | st.sampled_from(["\x00", "a\x00b", "\ud800", "x" * 300, "١٢٣", "DROP TABLE inbox_events;--"])
    payload = data.draw(st.fixed_dictionaries({"type": text, "id": text, "entity": text}, optional={
        "big": st.integers(-(2 ** 200), 2 ** 200), "value": fs.json_values}), label="payload")
    target = data.draw(st.sampled_from(["shop", "tokenhook", "telegram", "bitrix24", "tochka", "onec", "deep"]), label="target")
    amount = data.draw(st.sampled_from(["100.00", "1 000,50", "15000-00", "0", "-5", "1e5", "99999999999999999.99"]) | fs.json_values)
    client = relay.app.test_client()
    if target in ("shop", "tokenhook"):
        body = json.dumps(payload).encode()
        headers = {"X-Relay-Signature": fs.hmac_hex(HMAC_SECRET, body)} if target == "shop" else {"X-Hook-Token": TOKEN_SECRET}
        response = post(client, f"/hooks/{target}", body, headers, "application/json")
    elif target == "deep":
        depth = data.draw(st.integers(500, 2000))
        body = b'{"type": "x", "v": ' + b"[" * depth + b"]" * depth + b"}"
        response = post(client, "/hooks/shop", body, {"X-Relay-Signature": fs.hmac_hex(HMAC_SECRET, body)})
    elif target == "telegram":
        update = {"update_id": data.draw(st.integers(-(2 ** 70), 2 ** 70)), "message": data.draw(fs.json_values | st.just(
            {"message_id": 1, "date": 0, "chat": {"id": data.draw(st.integers(-(2 ** 70), 2 ** 70)), "type": "supergroup"},
             "text": payload["type"], "from": {"id": 5, "is_bot": False, "first_name": payload["id"]}}))}
        body = json.dumps(update).encode()
        response = post(client, "/hooks/telegram/main", body, {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}, "application/json")
    elif target == "bitrix24":
        entity_id = data.draw(st.integers(0, 2 ** 80).map(str) | st.just("1" * 300))
        body = f"event=ONCRMDEALUPDATE&data[FIELDS][ID]={entity_id}&ts={payload['type'][:50]}&auth[application_token]={B24_TOKEN}"
        response = post(client, "/hooks/bitrix24", body.encode("utf-8", "surrogatepass"), {}, "application/x-www-form-urlencoded")
    elif target == "onec":
        upload = fs.ONEC_TEMPLATE.format(number=payload["id"], payer=payload["type"], purpose=payload["entity"], amount=amount)
        response = post(client, "/hooks/bank/onec", upload.encode("utf-8", "surrogatepass"), {"X-Relay-Token": ONEC_TOKEN})
    else:
        claims = {"webhookType": "incomingPayment", "SidePayer": {"account": payload["id"], "name": payload["type"], "inn": payload["entity"]},
                  "SideRecipient": {"account": "40702810575689348581", "amount": amount, "currency": data.draw(text)},
                  "date": data.draw(st.sampled_from(["2025-03-03", "2025-02-30", "0001-01-01", ""]), label="date"),
                  "documentNumber": payload["entity"], "purpose": payload["type"], "paymentId": payload["id"]}
        response = post(client, "/hooks/bank/tochka", sign_claims(claims), {}, "application/jwt")
    relay.forget()  # what was stored is fine here; the next example starts clean all the same
    assert response.status_code < 500, (target, response.status_code, response.data[:300])
    assert response.status_code in (200, 400, 413, 422), response.status_code
    assert not leaked(response.headers, response.data)


# --- the same over real HTTP: waitress as `app.py run` serves it -----------------------------------------

@pytest.fixture(scope="module")
def served(relay: FuzzRelay) -> Iterator[str]:
    server = _serve(relay.runtime, block=False)
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


@settings(FUZZ, max_examples=60)
@given(request=hostile.any_endpoint)
def test_real_http_pass(relay: FuzzRelay, served: str, request: Hostile) -> None:
    # Bytes, so any charset goes; stripped, as a client library will not send edge whitespace.
    headers = {k: v.strip().encode() for k, v in {**request.headers, "Content-Type": request.content_type}.items() if v.strip()}
    answer = requests.request(request.method, served + request.path, data=request.body, headers=headers, timeout=10,
                              allow_redirects=False)
    healthz = request.path.split("?")[0] == "/healthz" and request.method in ("GET", "HEAD")
    assert answer.status_code < 500 or (healthz and answer.status_code == 503), (answer.status_code, answer.content[:300])
    assert not leaked(answer.headers, answer.content)
    left = relay.forget()
    assert left == 0, f"{left} row(s) stored by a hostile request ({answer.status_code})"


def raw_exchange(url: str, request: bytes) -> bytes:
    """Send bytes no HTTP client library would produce; return what came back."""
    host, port = url.removeprefix("http://").split(":")
    chunks = []
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        try:
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (ConnectionResetError, BrokenPipeError, OSError):
            pass  # the server may answer and close before reading everything we send
    return b"".join(chunks)


@pytest.mark.parametrize("request_bytes", [
    b"POST /hooks/shop HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + b"2000\r\n" + b"a" * 8192 + b"\r\n0\r\n\r\n",
    b"POST /hooks/shop HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"short\": 1}",
    b"POST /hooks/shop HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}",
    b"POST /hooks/shop HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n{}",
    b"POST /hooks/telegram/main HTTP/1.1\r\nHost: x\r\nX-Telegram-Bot-Api-Secret-Token: \xd1\x81\xd0\xb5\xd0\xba\r\nContent-Length: 2\r\n\r\n{}",
    b"POST /hooks/bitrix24 HTTP/1.0\r\nContent-Length: 5\r\n\r\nevent",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"h" * 70000 + b"\r\n\r\n",
    b"POST /hooks/shop\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GARBAGE\r\n\r\n",
], ids=["chunked-oversized", "short-body", "negative-length", "huge-length", "utf8-header", "http10", "huge-header", "nul-path", "garbage"])
def test_raw_http_oddities(relay: FuzzRelay, served: str, request_bytes: bytes) -> None:
    answer = raw_exchange(served, request_bytes)
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    assert status == 0 or status < 500 or (status == 503 and b"degraded" in answer), answer[:300]
    assert not leaked({}, answer)
    assert relay.forget() == 0
