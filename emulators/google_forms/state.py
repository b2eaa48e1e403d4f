"""What the Google Forms emulator holds: forms with their questions, responses, service accounts
(public keys, forms shared with them) and issued access tokens; plus the Apps Script push.

Shapes follow the Forms API v1 (`Form`, `FormResponse`, `Answer.textAnswers`); the push body is
the relay's own Apps Script contract (connectors/google_forms/apps_script.gs).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import requests

from emulators.common.clock import Clock

# Apps Script item types of our question kinds (the push names them so), and the Forms API question.
KINDS: dict[str, tuple[str, dict[str, Any]]] = {
    "text": ("TEXT", {"textQuestion": {}}),
    "paragraph": ("PARAGRAPH_TEXT", {"textQuestion": {"paragraph": True}}),
    "radio": ("MULTIPLE_CHOICE", {"choiceQuestion": {"type": "RADIO"}}),
    "checkbox": ("CHECKBOX", {"choiceQuestion": {"type": "CHECKBOX"}}),
    "dropdown": ("LIST", {"choiceQuestion": {"type": "DROP_DOWN"}}),
    "date": ("DATE", {"dateQuestion": {"includeYear": True}}),
    "scale": ("SCALE", {"scaleQuestion": {"low": 1, "high": 5}}),
}


class EmulatorError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


def rfc3339(moment: float) -> str:
    """Google's style: UTC, microseconds, `Z`."""
    return datetime.fromtimestamp(moment, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Form:
    form_id: str
    title: str
    responder_uri: str
    items: list[dict[str, Any]]
    responses: list[dict[str, Any]] = field(default_factory=list)
    trigger: dict[str, str] | None = None  # the installed Apps Script: {"url", "secret"}

    def as_api(self) -> dict[str, Any]:
        items = []
        for item in self.items:
            _, question = KINDS[item.get("kind", "text")]
            question = json.loads(json.dumps(question))
            if "choiceQuestion" in question:
                question["choiceQuestion"]["options"] = [{"value": o} for o in item.get("options") or []]
            items.append({"itemId": item["itemId"], "title": item["title"],
                          "questionItem": {"question": {"questionId": item["questionId"], "required": bool(item.get("required")), **question}}})
        return {"formId": self.form_id, "info": {"title": self.title, "documentTitle": self.title}, "revisionId": "00000001",
                "responderUri": self.responder_uri, "items": items}

    def question(self, ref: str) -> dict[str, Any]:
        for item in self.items:
            if ref in (item["title"], item["questionId"], item["itemId"]):
                return item
        raise EmulatorError(400, "INVALID_ARGUMENT", f"form {self.form_id} has no question {ref!r}")


class FormsState:
    def __init__(self, seed: dict[str, Any], clock: Clock) -> None:
        self.seed = seed
        self.clock = clock
        self.lock = threading.RLock()
        self.load()

    def load(self) -> None:
        with self.lock:
            self.forms = {f["formId"]: Form(f["formId"], f.get("title", ""), f.get("responderUri", ""), list(f.get("items") or []))
                          for f in self.seed.get("forms") or []}
            self.accounts: dict[str, dict[str, Any]] = {}
            for account in self.seed.get("service_accounts") or []:
                self.add_account(account["client_email"], account.get("public_key", ""), account.get("forms") or [])
            self.tokens: dict[str, dict[str, Any]] = {}
            self.pushes: list[dict[str, Any]] = []
            self._ids = itertools.count(1)

    def add_account(self, email: str, public_key: str, forms: list[str]) -> None:
        with self.lock:
            self.accounts[email] = {"public_key": public_key, "forms": set(forms)}

    def form(self, form_id: str, account: str | None = None) -> Form:
        form = self.forms.get(form_id)
        if form is None:
            raise EmulatorError(404, "NOT_FOUND", "Requested entity was not found.")
        if account is not None and form_id not in self.accounts.get(account, {}).get("forms", set()):
            raise EmulatorError(403, "PERMISSION_DENIED", "The caller does not have permission")
        return form

    def mint(self, email: str, ttl: int) -> str:
        token = "ya29.emu-" + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = {"email": email, "exp": self.clock.now() + ttl}
        return token

    def who(self, token: str) -> str | None:
        with self.lock:
            known = self.tokens.get(token)
        return known["email"] if known and known["exp"] > self.clock.now() else None

    # --- responses --------------------------------------------------------------------------
    def submit(self, form_id: str, answers: dict[str, Any], email: str = "") -> dict[str, Any]:
        """A respondent submits: answers by question title, id or item id; a list for checkboxes."""
        form = self.form(form_id)
        now = self.clock.now()
        rid = "ACYDBN" + hashlib.sha256(f"{form_id}:{next(self._ids)}:{now}".encode()).hexdigest()[:40]
        body: dict[str, Any] = {}
        for ref, value in answers.items():
            item = form.question(ref)
            values = value if isinstance(value, list) else [value]
            body[item["questionId"]] = {"questionId": item["questionId"],
                                        "textAnswers": {"answers": [{"value": str(v)} for v in values]}}
        response = {"formId": form_id, "responseId": rid, "createTime": rfc3339(now), "lastSubmittedTime": rfc3339(now), "answers": body}
        if email:
            response["respondentEmail"] = email
        with self.lock:
            form.responses.append(response)
        return response

    def push(self, form: Form, response: dict[str, Any]) -> dict[str, Any]:
        """What the installed trigger does on submit: one signed POST, no retries (UrlFetchApp)."""
        if not form.trigger:
            raise EmulatorError(409, "FAILED_PRECONDITION", f"no trigger is installed on form {form.form_id} (POST /_emulator/forms/<id>/trigger)")
        body = json.dumps(self.push_body(form, response), ensure_ascii=True).encode()
        stamp = str(int(self.clock.now()))
        signature = hmac.new(form.trigger["secret"].encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        record: dict[str, Any] = {"responseId": response["responseId"], "url": form.trigger["url"]}
        try:
            answer = requests.post(form.trigger["url"], data=body, timeout=10, headers={
                "Content-Type": "application/json", "X-Relay-Timestamp": stamp, "X-Relay-Signature": signature})
            record.update(status=answer.status_code, body=answer.text[:2000])
        except requests.RequestException as exc:
            record.update(status=None, error=type(exc).__name__)
        with self.lock:
            self.pushes.append(record)
        return record

    def push_body(self, form: Form, response: dict[str, Any]) -> dict[str, Any]:
        answers, prefilled = [], {}
        for item in form.items:
            given = response["answers"].get(item["questionId"])
            if not given:
                continue  # Apps Script lists answered items only
            values = [a["value"] for a in given["textAnswers"]["answers"]]
            kind, _ = KINDS[item.get("kind", "text")]
            entry = {"questionId": str(int(item["itemId"], 16)), "title": item["title"], "type": kind}
            entry.update({"values": values} if kind == "CHECKBOX" else {"value": values[0]})
            answers.append(entry)
            prefilled[f"entry.{int(item['questionId'], 16)}"] = values if len(values) > 1 else values[0]
        body: dict[str, Any] = {"formId": form.form_id, "responseId": response["responseId"],
                                "submittedAt": response["lastSubmittedTime"], "answers": answers, "prefilled": prefilled}
        if response.get("respondentEmail"):
            body["respondentEmail"] = response["respondentEmail"]
        return body

    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {"forms": {fid: {"title": f.title, "responses": list(f.responses), "trigger": bool(f.trigger)} for fid, f in self.forms.items()},
                    "service_accounts": {e: sorted(a["forms"]) for e, a in self.accounts.items()}, "pushes": list(self.pushes)}


def page_token(offset: int, query: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "q": query}).encode()).decode().rstrip("=")


def read_page_token(token: str, query: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["q"] != query:
            raise ValueError("another query")
        return int(data["o"])
    except (ValueError, KeyError, TypeError):
        raise EmulatorError(400, "INVALID_ARGUMENT", "Invalid page token.") from None
