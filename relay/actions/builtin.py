"""Actions every installation has, whatever it connects: call a URL, start and cancel timers, note."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from pydantic import Field

from relay.actions.context import ActionContext
from relay.actions.params import Params
from relay.errors import PermanentError, TransientError, UpstreamUnavailable
from relay.registry import action
from relay.store import utcnow
from relay.templating import TemplateStr
from relay.timers import due_at, parse_duration


class HttpPostParams(Params):
    url: TemplateStr
    json_body: dict[str, Any] = Field(default_factory=dict, alias="json", description="JSON body; strings are templates")
    headers: dict[str, TemplateStr] = Field(default_factory=dict)
    lookup_url: TemplateStr | None = Field(None, description="GET it after a crash: 200 means the POST had arrived (its JSON `id` is kept), 404 means it had not")
    timeout_seconds: float = Field(10.0, gt=0, le=120)


def _host(url: str) -> str:
    return urlsplit(url).hostname or "the target"


def _check(response: requests.Response, what: str, url: str) -> None:
    if response.status_code in (408, 425, 429) or response.status_code >= 500:
        retry_after = response.headers.get("Retry-After")
        wait = float(retry_after) if retry_after and retry_after.isdigit() else None
        if response.status_code >= 500:
            raise UpstreamUnavailable(_host(url), f"{what}: HTTP {response.status_code}", wait)
        raise TransientError(f"{what}: HTTP {response.status_code}", wait)
    if response.status_code >= 400:
        raise PermanentError(f"{what}: HTTP {response.status_code}: {response.text[:300]}")


def _id_of(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body["id"]) if isinstance(body, dict) and body.get("id") is not None else None


@action("http_post", HttpPostParams)
def http_post(ctx: ActionContext, p: HttpPostParams) -> None:
    """POST JSON to a URL (n8n, a script, a chat bot) once per triggering event, with an Idempotency-Key header."""
    url = ctx.render(p.url)
    body = ctx.render(p.json_body)
    key = ctx.key()
    headers = {"Idempotency-Key": key, **ctx.render(p.headers)}

    def do() -> str | None:
        try:
            response = requests.post(url, json=body, headers=headers, timeout=p.timeout_seconds)
        except requests.RequestException as exc:
            raise UpstreamUnavailable(_host(url), f"POST {url}: {type(exc).__name__}") from None
        _check(response, f"POST {url}", url)
        return _id_of(response)

    def find() -> str | None:
        lookup = ctx.render(p.lookup_url, effect_key=key) if p.lookup_url else None
        if lookup is None:
            return None
        try:
            response = requests.get(lookup, headers=headers, timeout=p.timeout_seconds)
        except requests.RequestException as exc:
            raise UpstreamUnavailable(_host(lookup), f"GET {lookup}: {type(exc).__name__}") from None
        if response.status_code == 404:
            return None
        _check(response, f"GET {lookup}", lookup)
        return _id_of(response) or "found"

    ctx.effect(do, find if p.lookup_url else None, target=url, describe={"url": url, "json": body})


class StartTimerParams(Params):
    kind: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$", description="event kind the timer fires as (rules match `when: {source: timer, kind: ...}`)")
    after: TemplateStr | None = Field(None, description="90s, 15m, 2h, 3d or '2 working days'")
    at: TemplateStr | None = Field(None, description="ISO date-time (template)")
    cancel_key: TemplateStr | None = Field(None, description="cancel_timer with the same key stops it")
    payload: dict[str, Any] = Field(default_factory=dict, description="carried into the fired event; strings are templates")


@action("start_timer", StartTimerParams)
def start_timer(ctx: ActionContext, p: StartTimerParams) -> None:
    """Fire an event later; one timer per rule and triggering event, however often the event repeats."""
    if (p.after is None) == (p.at is None):
        raise PermanentError("start_timer needs exactly one of `after` or `at`")
    if p.after is not None:
        text = ctx.render(p.after)
        try:
            parse_duration(text)
        except ValueError as exc:
            raise PermanentError(str(exc)) from None
        fire_at = due_at(utcnow(), text, ctx.runtime.calendar)
    else:
        fire_at = datetime.fromisoformat(ctx.render(p.at))
    cancel_key = ctx.render(p.cancel_key) if p.cancel_key else None
    payload = ctx.render(p.payload)
    key = ctx.key()

    def do() -> str:
        created = ctx.runtime.timers.schedule(key, p.kind, fire_at, payload, ctx.event.entity_key, cancel_key, ctx.event.id)
        return f"timer:{key}" if created else f"timer:{key}(existing)"

    ctx.effect(do, target="timer", describe={"kind": p.kind, "fire_at": fire_at.isoformat(), "cancel_key": cancel_key})


class CancelTimerParams(Params):
    cancel_key: TemplateStr


@action("cancel_timer", CancelTimerParams)
def cancel_timer(ctx: ActionContext, p: CancelTimerParams) -> None:
    """Cancel pending timers started with this cancel_key (cancelling twice is harmless)."""
    cancel_key = ctx.render(p.cancel_key)
    if ctx.dry_run:
        ctx.effect(lambda: None, describe={"cancel_key": cancel_key})
        return
    count = ctx.runtime.timers.cancel(cancel_key=cancel_key)
    ctx.trace("timer.cancelled", f"cancelled {count} timer(s) with key {cancel_key!r}", cancel_key=cancel_key)


class NoteParams(Params):
    text: TemplateStr


@action("note", NoteParams)
def note(ctx: ActionContext, p: NoteParams) -> None:
    """Write a line into the event's trace (for checking what a rule sees)."""
    ctx.trace("note", ctx.render(p.text))


