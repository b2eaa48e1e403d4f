"""Intake at /hooks/forms/<form>: submissions pushed by the Apps Script trigger (apps_script.gs).

Checked in this order, and a refused request stores nothing: the form is configured (404), the
body is not too large (413), it is signed — `X-Relay-Timestamp` (unix seconds) and
`X-Relay-Signature` (hex HMAC-SHA256 of `<timestamp>.<body>` with the form's secret) — recently
(401), it is a JSON object (400) that is a submission of this form (422, saying what is wrong).
One submission is one event: the idempotency key is `<form>:<responseId>`, so a repeated push, or
the poller finding the same response, is acknowledged and not stored again.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from typing import Callable

from pydantic import ValidationError

from connectors.google_forms.settings import FormSettings, FormsSettings
from connectors.google_forms.submission import Submission, from_push, problems_of
from relay.intake.base import IncomingEvent, InboundRequest, Rejected, json_object, same_secret

TIMESTAMP_HEADER = "X-Relay-Timestamp"
SIGNATURE_HEADER = "X-Relay-Signature"
KIND = "form.submitted"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _only_id(value: str) -> str:
    """A task or contact id as people put it in links: `1001`, `#1001`, `contact:11` → the digits."""
    text = value.strip().lstrip("#")
    for prefix in ("task:", "contact:"):
        text = text.removeprefix(prefix)
    return text if text.isdigit() else ""


def _find(sub: Submission, entry: str, question: str) -> str:
    """The id from the pre-filled entry, else from the answer to the question (by id or title)."""
    if entry and sub.prefilled.get(entry):
        return _only_id(sub.prefilled[entry])
    wanted = question.strip().casefold()
    if wanted:
        for answer in sub.answers:
            if wanted in (answer.question_id.casefold(), answer.title.casefold()) and answer.values:
                return _only_id(answer.values[0])
    return ""


def to_event(sub: Submission, settings: FormSettings) -> IncomingEvent:
    """The inbox event of a submission, whichever route brought it (push or poll)."""
    task = _find(sub, settings.task_entry, settings.task_question)
    contact = _find(sub, settings.contact_entry, settings.contact_question)
    entity = settings.entity_key.replace("{task}", task) if task else f"forms:{sub.form}:{sub.response_id}"
    payload = {**sub.as_payload(), "task": task, "contact": contact}
    return IncomingEvent(KIND, entity, payload, f"{sub.form}:{sub.response_id}")


class FormsSource:
    name = "forms"

    def __init__(self, settings: FormsSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock

    def accept(self, request: InboundRequest) -> list[IncomingEvent]:
        form = request.subpath.strip("/")
        settings = self.settings.forms.get(form)
        if settings is None:
            known = ", ".join(sorted(self.settings.forms)) or "none"
            raise Rejected(404, f"no form {form!r} is configured under connectors.forms.forms (configured: {known})")
        if len(request.body) > settings.max_body_bytes:
            raise Rejected(413, f"the submission is {len(request.body)} bytes; this form accepts up to {settings.max_body_bytes}")
        self._authenticate(request, settings)
        data = json_object(request.body, " (a submission)")
        try:
            sub = from_push(form, data)
        except ValidationError as exc:
            raise Rejected(422, f"not a form submission: {problems_of(exc)}") from None
        if settings.form_id and sub.form_id != settings.form_id:
            raise Rejected(422, f"formId {sub.form_id!r} is not the form configured for /hooks/forms/{form}")
        return [to_event(sub, settings)]

    def _authenticate(self, request: InboundRequest, settings: FormSettings) -> None:
        stamp, given = request.header(TIMESTAMP_HEADER).strip(), request.header(SIGNATURE_HEADER).strip()
        for header, value in ((TIMESTAMP_HEADER, stamp), (SIGNATURE_HEADER, given)):
            if not value:
                raise Rejected(401, f"missing {header} header (unsigned submission)")
        if not stamp.isdigit():
            raise Rejected(401, f"{TIMESTAMP_HEADER} must be unix seconds, got {stamp[:40]!r}")
        expected = signature(settings.secret.get_secret_value(), stamp, request.body)
        if not same_secret(given.removeprefix("sha256=").lower(), expected):
            raise Rejected(401, f"{SIGNATURE_HEADER} does not match the body (wrong secret, or the body changed on the way)")
        skew = abs(self.clock() - int(stamp))
        if skew > settings.max_skew_seconds:
            # Checked after the signature, so the timestamp is known to be the sender's own.
            raise Rejected(401, f"stale submission: signed {int(skew)} s away from the relay's clock "
                                f"(allowed {settings.max_skew_seconds} s); check the clocks, or it is a replay")
