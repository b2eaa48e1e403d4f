"""Intake of Planfix scenario requests ("send HTTP request") at /hooks/planfix[/<anything>].

Planfix signs nothing: the admin writes the request, so it carries a shared secret in a header
(`X-Relay-Secret` by default) or a query parameter (`?key=`), compared in constant time. The body
is whatever the admin wrote with Planfix variables; it only has to name the task
(`{"event": "task.status_changed", "task": {{Задача.Номер}}}`), since the relay reads the task
back. Planfix substitutes variables as text, so the parser is forgiving: JSON (even wrapped in
Markdown fences), form fields or query parameters, numbers as strings.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from connectors.planfix.settings import PlanfixSettings
from relay.intake.base import IncomingEvent, InboundRequest, Rejected, same_secret

_KIND = re.compile(r"[^a-z0-9_.\-]+")
_FENCE = re.compile(r"^\s*```[a-zA-Z]*\s*|\s*```\s*$")


def task_key(task_id: int | str) -> str:
    return f"planfix:task:{task_id}"


class PlanfixSource:
    name = "planfix"

    def __init__(self, settings: PlanfixSettings) -> None:
        self.settings = settings

    def accept(self, request: InboundRequest) -> list[IncomingEvent]:
        self._authenticate(request)
        payload = {k: v for k, v in request.query.items() if k != self.settings.secret_param}
        payload.update(_body(request))
        task = str(payload.get("task", "")).strip()
        if not task.isdigit():
            raise Rejected(422, "the request names no task: send the task number as `task`, e.g. "
                                '{"event": "task.status_changed", "task": {{Задача.Номер}}}')
        payload["task"] = int(task)
        kind = _KIND.sub("_", str(payload.get("event") or "task.changed").strip().lower())[:64].strip("._-") or "task.changed"
        comment = str(payload.get("comment", "")).strip()
        if comment.isdigit():
            # A comment is news by itself: a redelivery of the same comment is the same event.
            payload["comment"] = int(comment)
            return [IncomingEvent(kind, task_key(task), payload, f"{kind}:{task}:comment:{comment}")]
        # Otherwise the request only says "look at task N again": a repeat after processing began is a
        # new look (read-back and change detection decide whether anything happened).
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
        return [IncomingEvent(kind, task_key(task), payload, f"{kind}:{task}:sha256:{digest}", repeatable=True)]

    def _authenticate(self, request: InboundRequest) -> None:
        header, param = self.settings.secret_header, self.settings.secret_param
        given = request.header(header) or request.query.get(param, "")
        if not given:
            raise Rejected(401, f"the scenario secret is missing: send it in the {header} header or the `{param}` query parameter")
        if not same_secret(given, self.settings.scenario_secret.get_secret_value()):
            raise Rejected(403, f"the scenario secret does not match connectors.planfix.scenario_secret ({header} / `{param}`)")


def _body(request: InboundRequest) -> dict[str, Any]:
    try:
        text = request.body.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise Rejected(400, "body is not UTF-8") from None
    if not text:
        return {}
    content_type = request.header("content-type").lower()
    if "application/x-www-form-urlencoded" in content_type or (text[0] not in "{[`" and "=" in text):
        return dict(parse_qsl(text, keep_blank_values=True))
    try:
        data = json.loads(_FENCE.sub("", text))
    except json.JSONDecodeError as exc:
        raise Rejected(400, f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno} "
                            "(a Planfix variable with quotes inside can break hand-written JSON; send ids only)") from None
    except RecursionError:
        raise Rejected(400, "body is JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise Rejected(400, f"body is JSON but not an object (got {type(data).__name__})")
    return data
