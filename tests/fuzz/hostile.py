"""Hostile requests, one strategy per intake endpoint, each drawing a whole `Hostile` request.

The same requests go through Flask's test client and, in one pass, over real HTTP. Right
credentials are only ever drawn together with a body that must still be refused.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from hypothesis import strategies as st

from tests.fuzz import strategies as fs
from tests.fuzz.world import B24_TOKEN, FORMS_SECRET, HMAC_SECRET, MAX_BODY, ONEC_TOKEN, PLANFIX_SECRET, TG_SECRET, TOKEN_SECRET

A_REAL_UPDATE = json.dumps({"update_id": 5, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"},
                                                        "text": "hi"}}).encode()


@dataclass
class Hostile:
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = ""
    authenticated: bool = False

    @property
    def must_be_auth_refusal(self) -> bool:
        """Unauthenticated and small enough to be read: the answer must be 401 or 403."""
        return not self.authenticated and len(self.body) <= MAX_BODY


@st.composite
def webhook(draw: st.DrawFn) -> Hostile:
    source = draw(st.sampled_from(["shop", "tokenhook"]), label="source")
    authenticated = draw(st.booleans(), label="authenticated")
    body = draw(fs.malformed_json_body if authenticated else fs.any_body, label="body")
    headers = draw(fs.odd_headers, label="headers")
    if source == "shop":
        headers.update({"X-Relay-Signature": fs.hmac_hex(HMAC_SECRET, body)} if authenticated else
                       draw(fs.forged_signature(HMAC_SECRET, body), label="signature"))
    elif authenticated:
        headers["X-Hook-Token"] = TOKEN_SECRET
    elif draw(st.booleans()):
        headers["X-Hook-Token"] = draw(st.sampled_from([TOKEN_SECRET[:-1], TOKEN_SECRET + "x", "", TOKEN_SECRET.upper()]) | fs.header_text)
    return Hostile("POST", f"/hooks/{source}", body, headers, draw(fs.content_types, label="content-type"), authenticated)


@st.composite
def bitrix24(draw: st.DrawFn) -> Hostile:
    authenticated = draw(st.booleans(), label="authenticated")
    kind = draw(st.sampled_from(["form", "bad-utf8", "cp1251", "binary", "oversized"]), label="kind")
    if kind == "form":
        body = draw(fs.php_forms(B24_TOKEN if authenticated else None), label="body")
    elif kind == "cp1251":
        body = ("event=ONCRMDEALUPDATE&data[FIELDS][ID]=" + draw(st.text(alphabet=fs.CYRILLIC, min_size=1, max_size=20))
                + f"&auth[application_token]={B24_TOKEN}").encode("cp1251")
    else:
        body = draw({"bad-utf8": fs.bad_utf8, "binary": st.binary(max_size=300), "oversized": fs.oversized}[kind], label="body")
    content_type = draw(fs.content_types | st.just("application/x-www-form-urlencoded"))
    # The token travels inside the form: a body that is no form is refused (400) before any token is read.
    return Hostile("POST", "/hooks/bitrix24", body, draw(fs.odd_headers), content_type, authenticated or kind != "form")


@st.composite
def telegram(draw: st.DrawFn) -> Hostile:
    bot = draw(st.sampled_from(["main", "other", "", "main/extra", "%00"]) | st.text(alphabet="abc/._-%", max_size=10), label="bot")
    authenticated = draw(st.booleans(), label="authenticated")
    headers = draw(fs.odd_headers)
    if authenticated:
        headers["X-Telegram-Bot-Api-Secret-Token"] = TG_SECRET
        body = draw(fs.telegram_malformed(), label="body")
    else:
        if draw(st.booleans()):
            headers["X-Telegram-Bot-Api-Secret-Token"] = draw(st.sampled_from([TG_SECRET[:-1], TG_SECRET + "x", ""]) | fs.header_text)
        body = draw(fs.any_body | st.just(A_REAL_UPDATE), label="body")
    path = f"/hooks/telegram/{bot}".rstrip("/") if bot.strip("/") else "/hooks/telegram"
    # Another bot's path is refused before any secret is looked at (404): not an auth refusal.
    return Hostile("POST", path, body, headers, draw(fs.content_types), authenticated or bot != "main")


@st.composite
def bank(draw: st.DrawFn) -> Hostile:
    route = draw(st.sampled_from(["tochka", "onec", "tbank", "", "tochka/x"]), label="route")
    authenticated = draw(st.booleans(), label="authenticated")
    headers = draw(fs.odd_headers)
    if route == "onec":
        body = draw(fs.onec_bodies(), label="body")
        if authenticated:
            headers["X-Relay-Token"] = ONEC_TOKEN
        elif draw(st.booleans()):
            headers["X-Relay-Token"] = draw(st.sampled_from([ONEC_TOKEN[:-1], ONEC_TOKEN.upper()]) | fs.header_text)
    else:
        body = draw(fs.tochka_bodies(trusted=authenticated), label="body")
    content_type = draw(fs.content_types | st.just("multipart/form-data; boundary=zz"))
    # Tochka's junk bodies are refused as "not a JWT" (400) before any signature check.
    return Hostile("POST", f"/hooks/bank/{route}".rstrip("/"), body, headers, content_type, authenticated or route != "onec")


@st.composite
def planfix(draw: st.DrawFn) -> Hostile:
    """Scenario requests: the secret in the header or `?key=`; with it, bodies that name no task."""
    authenticated = draw(st.booleans(), label="authenticated")
    headers, query = draw(fs.odd_headers), ""
    if authenticated:
        body = draw(fs.bad_utf8 | fs.broken_json | fs.deep_arrays | fs.oversized | fs.json_objects.filter(
            lambda o: not str(o.get("task", "")).strip().isdigit()).map(fs.jsonable), label="body")
        if draw(st.booleans()):
            headers["X-Relay-Secret"] = PLANFIX_SECRET
        else:
            query = f"?key={PLANFIX_SECRET}"
    else:
        body = draw(fs.any_body | st.just(b'{"event": "task.changed", "task": 17}'), label="body")
        wrong = draw(st.sampled_from([PLANFIX_SECRET[:-1], PLANFIX_SECRET + "0", ""]) | fs.header_text)
        if draw(st.booleans()):
            headers["X-Relay-Secret"] = wrong
        elif wrong.isascii() and wrong.isalnum():
            query = f"?key={wrong}"
    sub = draw(st.sampled_from(["", "/scenario", "/x/y"]))
    return Hostile("POST", f"/hooks/planfix{sub}{query}", body, headers, draw(fs.content_types), authenticated)


@st.composite
def forms(draw: st.DrawFn) -> Hostile:
    """Google Forms pushes: signed `<timestamp>.<body>`; right signatures only on bodies that are no submission."""
    form = draw(st.sampled_from(["brief", "other", ""]), label="form")
    authenticated = draw(st.booleans(), label="authenticated")
    body = draw(fs.malformed_json_body | fs.json_objects.map(fs.jsonable) if authenticated else fs.any_body, label="body")
    stamp = str(int(time.time()))
    headers = draw(fs.odd_headers)
    if authenticated:
        headers.update({"X-Relay-Timestamp": stamp, "X-Relay-Signature": fs.hmac_hex(FORMS_SECRET, stamp.encode() + b"." + body)})
    else:
        kind = draw(st.sampled_from(["missing", "stale", "other-secret", "junk"]))
        if kind == "stale":  # the right signature of a day-old timestamp: a replay
            old = str(int(time.time()) - 86_400)
            headers.update({"X-Relay-Timestamp": old, "X-Relay-Signature": fs.hmac_hex(FORMS_SECRET, old.encode() + b"." + body)})
        elif kind == "other-secret":
            headers.update({"X-Relay-Timestamp": stamp, "X-Relay-Signature": fs.hmac_hex(FORMS_SECRET + "x", stamp.encode() + b"." + body)})
        elif kind == "junk":
            headers.update({"X-Relay-Timestamp": draw(fs.header_text), "X-Relay-Signature": draw(fs.header_text)})
    path = f"/hooks/forms/{form}".rstrip("/")
    return Hostile("POST", path, body, headers, draw(fs.content_types), authenticated or form != "brief")


@st.composite
def elsewhere(draw: st.DrawFn) -> Hostile:
    """Unknown sources, wrong methods, health and metrics, odd paths."""
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]))
    path = draw(st.sampled_from(["/hooks/nope", "/hooks/", "/hooks/shop/x/y", "/healthz", "/metrics", "/hooks/bitrix24", "/",
                                 "/admin/../hooks/shop", "/healthz?verbose=1", "/metrics?name[]=x", "/calendar/x.ics",
                                 "/calendar/../admin.ics", "/calendar/" + "a" * 300 + ".ics"])
                | st.text(alphabet="/abcz%.:?&=", max_size=30).map(lambda p: "/" + p.lstrip("/")))  # "//x" is a host to a client
    return Hostile(method, path, draw(fs.any_body), draw(fs.odd_headers), draw(fs.content_types), authenticated=True)


@st.composite
def admin_login(draw: st.DrawFn) -> Hostile:
    """A login form without a session: no CSRF token can be right, so every one must be refused."""
    body = draw(st.builds(lambda p, t: f"password={p}&csrf_token={t}".encode("utf-8", "surrogatepass"), st.text(max_size=40), st.text(max_size=40))
                | fs.bad_utf8 | fs.oversized | st.binary(max_size=200))
    content_type = draw(fs.content_types | st.just("application/x-www-form-urlencoded"))
    return Hostile("POST", "/admin/login", body, draw(fs.odd_headers), content_type, authenticated=True)


any_endpoint = st.one_of(webhook(), bitrix24(), telegram(), bank(), planfix(), forms(), elsewhere(), admin_login())
