"""Shared pieces for the Google Forms tests: the form's settings, signing like apps_script.gs does,
a relay serving /hooks/forms over real HTTP, and submission bodies. This module holds no tests."""
from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
from sqlalchemy import func, select

from emulators.common.server import RunningServer, serve_in_thread
from relay.runtime import Runtime
from relay.store.schema import InboxEvent, TraceStep
from relay.web.app import create_app as create_relay_app
from tests.support.relay import base_config, make_runtime

ROOT = Path(__file__).resolve().parents[2]
FORM_SECRET = "brief-form-secret-0123456789abcdef"
FORM_ID = "1FAIpQLSdemoBriefForm0000000000000000000000"
FORM_URL = f"https://docs.google.com/forms/d/e/{FORM_ID}/viewform"
TASK_ENTRY, CONTACT_ENTRY = "1000000001", "1000000002"   # int("3b9aca01", 16), int("3b9aca02", 16): the demo form's first two questions


def forms_section(extra: str = "") -> str:
    """`connectors.forms` for the demo brief form (indented under `connectors:`)."""
    return f"""\
  forms:
    forms:
      brief:
        secret: "{FORM_SECRET}"
        form_id: "{FORM_ID}"
        url: "{FORM_URL}"
        task_entry: entry.{TASK_ENTRY}
        contact_entry: entry.{CONTACT_ENTRY}
        task_question: "Номер задачи (не меняйте)"
        mapping: brief
{extra}"""


def copy_shipped(tmp_path: Path) -> None:
    """The shipped S11 rules and mapping, as an installation uses them."""
    for folder in ("rules", "mappings"):
        shutil.copytree(ROOT / folder / "brief", tmp_path / folder / "brief", dirs_exist_ok=True)


def sign(body: bytes, secret: str = FORM_SECRET, stamp: int | None = None) -> dict[str, str]:
    """The headers apps_script.gs sends: unix seconds and hex HMAC-SHA256 of `<stamp>.<body>`."""
    ts = str(int(time.time()) if stamp is None else stamp)
    mac = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Relay-Timestamp": ts, "X-Relay-Signature": mac}


def submission(response_id: str = "ACYDBNresp-1", task: str = "1001", contact: str = "11", **answers: Any) -> dict[str, Any]:
    """A push body as apps_script.gs builds it; `answers` by title (a list for checkboxes)."""
    given = {"Номер задачи (не меняйте)": task, "Номер контакта (не меняйте)": contact, **answers}
    items = []
    for n, (title, value) in enumerate(given.items(), start=1):
        item: dict[str, Any] = {"questionId": str(170000000 + n), "title": title, "type": "CHECKBOX" if isinstance(value, list) else "TEXT"}
        item.update({"values": value} if isinstance(value, list) else {"value": value})
        items.append(item)
    prefilled = {f"entry.{TASK_ENTRY}": task, f"entry.{CONTACT_ENTRY}": contact}
    return {"formId": FORM_ID, "responseId": response_id, "submittedAt": "2025-10-31T09:15:00.000Z",
            "answers": items, "prefilled": {k: v for k, v in prefilled.items() if v}}


@dataclass
class FormsRelay:
    runtime: Runtime
    server: RunningServer
    http: requests.Session = field(default_factory=requests.Session)

    def post(self, body: bytes, headers: dict[str, str], form: str = "brief") -> requests.Response:
        return self.http.post(f"{self.server.url}/hooks/forms/{form}", data=body, headers=headers, timeout=10)

    def push(self, payload: dict[str, Any], form: str = "brief") -> requests.Response:
        body = json.dumps(payload, ensure_ascii=False).encode()
        return self.post(body, sign(body), form)

    def stored(self) -> int:
        with self.runtime.store.session() as s:
            return int(s.scalar(select(func.count()).select_from(InboxEvent).where(InboxEvent.source == "forms")) or 0)

    def events(self) -> list[InboxEvent]:
        with self.runtime.store.session() as s:
            return list(s.scalars(select(InboxEvent).where(InboxEvent.source == "forms").order_by(InboxEvent.id)))

    def steps(self, *kinds: str) -> list[str]:
        with self.runtime.store.session() as s:
            return [r.message for r in s.scalars(select(TraceStep).where(TraceStep.step.in_(kinds)).order_by(TraceStep.id))]


def stop(server: RunningServer) -> None:
    """Stop without waiting out werkzeug's 0.5 s shutdown poll (nothing is in flight after a test)."""
    threading.Thread(target=server.stop, daemon=True).start()


@pytest.fixture
def forms_relay(db_url: str, write_config: Callable[..., Path], tmp_path: Path) -> Iterator[FormsRelay]:
    """A relay with only the forms connector (and the shipped mapping) on a real store and port."""
    copy_shipped(tmp_path)
    config = base_config(db_url, "connectors:\n" + forms_section() + "mappings: [mappings/brief/*.yaml]\nrules: []\n")
    runtime = make_runtime(write_config(config))
    server = serve_in_thread(create_relay_app(runtime))
    yield FormsRelay(runtime, server)
    stop(server)
    runtime.close()

