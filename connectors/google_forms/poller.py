"""Fallback: read forms.responses.list with a service account, for submissions whose push was lost.

Each run asks for the responses submitted since the newest one seen (minus an overlap), page by
page, and hands them to the inbox with the same idempotency key as a push (`<form>:<responseId>`),
so a response both pushed and polled is one event. The cursor is saved after the events of the run,
so a run that fails half-way repeats (harmlessly) rather than skips.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import timedelta, timezone
from typing import TYPE_CHECKING, Any

import jwt
import requests

from connectors.google_forms.settings import FormSettings, PollSettings, service_account_key
from connectors.google_forms.source import to_event
from connectors.google_forms.submission import from_api, questions_of, rfc3339
from relay.config.errors import ConfigError, ConfigProblem
from relay.inbox import insert_events
from relay.intake.base import IncomingEvent
from relay.store import utcnow
from relay.store.schema import Cursor

if TYPE_CHECKING:
    from relay.runtime import Runtime

log = logging.getLogger("relay.forms")
SCOPES = "https://www.googleapis.com/auth/forms.responses.readonly https://www.googleapis.com/auth/forms.body.readonly"
MAX_PAGES = 1000


class FormsApiError(Exception):
    """The Forms API or its token endpoint refused; the message says which call and why (no secrets)."""


class ServiceAccountToken:
    """An OAuth access token for the service account (RFC 7523 JWT bearer grant), renewed before it expires."""

    def __init__(self, settings: PollSettings, key: dict[str, Any], http: requests.Session) -> None:
        self.email, self.private_key, self.key_id = key["client_email"], key["private_key"], key.get("private_key_id", "")
        self.token_url = settings.token_url or key["token_uri"]
        self.timeout = settings.timeout_seconds
        self.http = http
        self._token, self._until = "", 0.0

    def assertion(self, now: float) -> str:
        claims = {"iss": self.email, "scope": SCOPES, "aud": self.token_url, "iat": int(now), "exp": int(now) + 3600}
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.key_id} if self.key_id else None)

    def get(self) -> str:
        now = time.time()
        if self._token and now < self._until - 60:
            return self._token
        try:
            resp = self.http.post(self.token_url, data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                                        "assertion": self.assertion(now)}, timeout=self.timeout)
        except requests.RequestException as exc:
            raise FormsApiError(f"token endpoint {self.token_url}: {type(exc).__name__}") from None
        body = _json(resp)
        if resp.status_code != 200 or not body.get("access_token"):
            raise FormsApiError(f"token endpoint {self.token_url} refused the service account {self.email}: HTTP {resp.status_code} "
                                f"{body.get('error', '')} {body.get('error_description', '')}".rstrip())
        self._token, self._until = str(body["access_token"]), now + float(body.get("expires_in", 3600))
        return self._token


def _json(resp: requests.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class FormsPoller:
    def __init__(self, settings: PollSettings, forms: dict[str, FormSettings], runtime: "Runtime") -> None:
        self.settings = settings
        self.forms = forms
        self.runtime = runtime
        try:
            key = service_account_key(settings.service_account.get_secret_value(), runtime.config.base_dir)
        except ValueError as exc:
            raise ConfigError([ConfigProblem(runtime.config.file, None, "connectors.forms.poll.service_account", str(exc))]) from None
        self.http = requests.Session()
        self.token = ServiceAccountToken(settings, key, self.http)

    def poll(self) -> int:
        """One run over every form with a form_id; returns how many submissions were new."""
        new = 0
        for name, form in self.forms.items():
            if not form.form_id:
                continue
            try:
                new += self.poll_form(name, form)
            except (FormsApiError, ValueError, KeyError) as exc:
                log.error("polling form %s failed: %s; the next run tries again from the same point", name, exc)
        return new

    def poll_form(self, name: str, form: FormSettings) -> int:
        cursor = f"forms.poll.{name}"
        state = self._load(cursor)
        since = rfc3339(state["since"]) if state.get("since") else utcnow()
        start = since - timedelta(seconds=self.settings.overlap_seconds)
        questions = questions_of(self._get(f"/v1/forms/{form.form_id}"))
        params: dict[str, Any] = {"filter": f"timestamp >= {start.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ}",
                                  "pageSize": self.settings.page_size}
        newest, new = since, 0
        for _ in range(MAX_PAGES):
            page = self._get(f"/v1/forms/{form.form_id}/responses", params)
            events: list[IncomingEvent] = []
            for item in page.get("responses") or []:
                try:
                    submission = from_api(name, {"formId": form.form_id, **item}, questions)
                except (KeyError, ValueError, TypeError) as exc:
                    log.error("form %s: skipped a malformed response %s: %s", name, item.get("responseId"), exc)
                    continue
                events.append(to_event(submission, form))
                newest = max(newest, rfc3339(submission.submitted_at))
            if events:
                with self.runtime.store.session() as s:
                    new += insert_events(s, self.runtime.store, "forms", events)
            token = page.get("nextPageToken")
            if not token:
                break
            params["pageToken"] = token
        else:
            raise FormsApiError(f"form {name}: more than {MAX_PAGES} pages in one run")
        self._save(cursor, {"since": newest.strftime("%Y-%m-%dT%H:%M:%S.%fZ")})
        if new:
            log.info("form %s: %d submission(s) found by polling that no push had brought", name, new)
        return new

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        url = self.settings.api_url.rstrip("/") + path
        try:
            resp = self.http.get(url, params=params, headers={"Authorization": f"Bearer {self.token.get()}"},
                                 timeout=self.settings.timeout_seconds)
        except requests.RequestException as exc:
            raise FormsApiError(f"GET {path}: {type(exc).__name__}") from None
        body = _json(resp)
        if resp.status_code != 200:
            error = body.get("error") if isinstance(body.get("error"), dict) else {}
            raise FormsApiError(f"GET {path}: HTTP {resp.status_code} {error.get('status', '')} {error.get('message', '')}".rstrip())
        return body

    def _load(self, name: str) -> dict[str, Any]:
        with self.runtime.store.session() as s:
            row = s.get(Cursor, name)
            return json.loads(row.value) if row is not None else {}

    def _save(self, name: str, state: dict[str, Any]) -> None:
        with self.runtime.store.session() as s:
            s.merge(Cursor(name=name, value=json.dumps(state, sort_keys=True), updated_at=utcnow()))

    def close(self) -> None:
        self.http.close()

