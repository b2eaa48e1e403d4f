"""The fallback poller against the Google Forms emulator: a service-account JWT traded for a token,
forms.get for the titles, forms.responses.list page by page from the cursor; a response that was
also pushed is one event, and a polled one reads like a pushed one."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from emulators.common.server import RunningServer, serve_in_thread
from relay.inbox import Claimed
from relay.web.app import create_app as create_relay_app
from tests.connectors.test_forms_helpers import FORM_ID, FORM_SECRET, FormsRelay, copy_shipped, forms_section, stop
from tests.connectors.test_forms_world import gf_server
from tests.support.relay import base_config, make_runtime

__all__ = ["gf_server"]
ACCOUNT = "relay-forms@crm-relay-demo.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.fixture
def polling(db_url: str, write_config: Callable[..., Path], tmp_path: Path, gf_server: tuple[Any, RunningServer],
            key_pair: tuple[str, str]) -> Iterator[tuple[FormsRelay, str]]:
    app, server = gf_server
    app.extensions["google_forms"].reset()
    private, public = key_pair
    requests.post(f"{server.url}/_emulator/service-accounts", json={"client_email": ACCOUNT, "public_key": public, "forms": [FORM_ID]},
                  timeout=5).raise_for_status()
    key = {"type": "service_account", "project_id": "crm-relay-demo", "private_key_id": "k1", "private_key": private,
           "client_email": ACCOUNT, "token_uri": f"{server.url}/token"}
    copy_shipped(tmp_path)
    poll = f"""\
    poll:
      service_account: sa.json
      api_url: "{server.url}"
      interval_seconds: 0
      page_size: 2
      overlap_seconds: 0
"""
    runtime = make_runtime(write_config(base_config(db_url, "connectors:\n" + forms_section(poll) + "mappings: [mappings/brief/*.yaml]\nrules: []\n"),
                                        **{"sa.json": json.dumps(key)}))
    relay_server = serve_in_thread(create_relay_app(runtime))
    requests.post(f"{server.url}/_emulator/forms/{FORM_ID}/trigger", json={"url": f"{relay_server.url}/hooks/forms/brief",
                                                                           "secret": FORM_SECRET}, timeout=5).raise_for_status()
    yield FormsRelay(runtime, relay_server), server.url
    stop(relay_server)
    runtime.close()


def _submit(url: str, push: bool, **answers: Any) -> dict[str, Any]:
    answer = requests.post(f"{url}/_emulator/forms/{FORM_ID}/submit", json={"answers": answers, "push": push}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _brief(n: int) -> dict[str, Any]:
    return {"Номер задачи (не меняйте)": str(1000 + n), "Номер контакта (не меняйте)": "11", "Телефон для связи": f"8 916 000-00-0{n}",
            "Какие услуги нужны?": ["Сайт", "SEO"]}


def test_lost_pushes_are_found_by_polling_once(polling: tuple[FormsRelay, str]) -> None:
    relay, gf_url = polling
    poller = relay.runtime.connector("forms").poller
    assert poller.poll() == 0                                          # the first run starts at "now"
    lost = [_submit(gf_url, False, **_brief(n))["response"]["responseId"] for n in (1, 2, 3)]
    pushed = _submit(gf_url, True, **_brief(4))
    assert pushed["push"]["status"] == 200
    assert poller.poll() == 3                                          # 4 responses on 2 pages; the pushed one is known
    assert poller.poll() == 0
    events = relay.events()
    assert sorted(e.idem_key for e in events) == sorted(f"brief:{r}" for r in [*lost, pushed["response"]["responseId"]])
    by_route = requests.get(f"{gf_url}/_emulator/requests", timeout=5).json()["by_route"]
    assert by_route["GET /v1/forms/<form_id>/responses"] >= 4 and by_route["POST /token"] == 1   # paged; the token reused

    polled = next(e for e in events if e.idem_key == f"brief:{lost[0]}")
    assert (polled.entity_key, polled.payload["via"], polled.payload["contact"]) == ("planfix:task:1001", "poll", "11")
    claimed = Claimed(polled.id, polled.source, polled.kind, polled.entity_key, polled.idem_key, polled.payload, 0, polled.received_at)
    context = relay.runtime.connector("forms").prepare(claimed)
    assert context is not None and context["form"]["values"]["203"] == "+79160000001"
    assert context["form"]["answers"]["Какие услуги нужны?"] == "Сайт, SEO"

    later = _submit(gf_url, False, **_brief(5))["response"]["responseId"]
    assert poller.poll() == 1 and relay.events()[-1].idem_key == f"brief:{later}"


def test_a_refused_service_account_is_logged_and_nothing_is_stored(polling: tuple[FormsRelay, str], caplog: pytest.LogCaptureFixture) -> None:
    relay, gf_url = polling
    app_state = requests.post(f"{gf_url}/_emulator/service-accounts", json={"client_email": ACCOUNT, "public_key": "", "forms": [FORM_ID]},
                              timeout=5)
    app_state.raise_for_status()                                       # the key was revoked in Google Cloud
    _submit(gf_url, False, **_brief(1))
    with caplog.at_level(logging.ERROR, logger="relay.forms"):
        assert relay.runtime.connector("forms").poller.poll() == 0
    assert relay.stored() == 0
    assert any("refused the service account" in r.getMessage() and "invalid_grant" in r.getMessage() for r in caplog.records)
    assert not any("PRIVATE KEY" in r.getMessage() for r in caplog.records)
