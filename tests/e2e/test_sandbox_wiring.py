"""How the sandbox wires Planfix and Google Forms, with settings other than the shipped defaults: the
scenario requests carry the configured scenario_secret, and a `poll` section polls the emulator with
the configured service account. Real emulators on real ports; no relay is needed for what is checked."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.google_forms.poller import ServiceAccountToken
from relay.config import load_config
from relay.config.loader import LoadedConfig
from relay.sandbox.serve import Started, planned, point_connectors, start_emulators, stop_all, wire
from tests.e2e.test_sandbox import sandbox_config

NOWHERE = "http://127.0.0.1:9"   # the relay's URL as the emulators are told it; nothing listens there
SCENARIO_SECRET = "another-scenario-secret-42"
SERVICE_ACCOUNT = "relay-forms@crm-relay-demo.iam.gserviceaccount.com"   # the demo seed's, shared with the brief form


def service_account_key() -> str:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return json.dumps({"client_email": SERVICE_ACCOUNT, "private_key": pem.decode(), "token_uri": "https://oauth2.googleapis.com/token"})


@pytest.fixture
def wired(tmp_path: Path) -> Iterator[tuple[LoadedConfig, dict[str, Started]]]:
    path, _ = sandbox_config(tmp_path, f"sqlite:///{tmp_path / 'sandbox.db'}")
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["sandbox"] = {name: data["sandbox"][name] for name in ("planfix", "google_forms")}
    data["connectors"]["planfix"]["scenario_secret"] = SCENARIO_SECRET
    data["connectors"]["forms"]["poll"] = {"service_account": service_account_key(), "interval_seconds": 0}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    config = load_config(path)
    started = start_emulators(config, planned(config))
    try:
        point_connectors(config, started)
        wire(config, started, NOWHERE)
        yield config, {emulator.spec.name: emulator for emulator in started}
    finally:
        stop_all(started)


def test_planfix_scenarios_carry_the_configured_secret(wired: tuple[LoadedConfig, dict[str, Started]]) -> None:
    _, started = wired
    planfix = started["planfix"].url
    scenarios = requests.get(f"{planfix}/_emulator/scenarios", timeout=10).json()["scenarios"]
    assert scenarios and {json.dumps(s["request"]["headers"]) for s in scenarios} == {json.dumps({"X-Relay-Secret": SCENARIO_SECRET})}
    # The PM presses «Отправить бриф»: the request Planfix sends names the relay and carries the secret.
    queued = requests.post(f"{planfix}/_emulator/scenarios/run", json={"name": "send brief", "task": 1001, "user": "user:2"}, timeout=10)
    assert queued.status_code == 200 and queued.json()["queued"], queued.text
    delivery = requests.get(f"{planfix}/_emulator/deliveries", timeout=10).json()["deliveries"][-1]
    assert delivery["url"] == f"{NOWHERE}/hooks/planfix/brief" and delivery["headers"]["X-Relay-Secret"] == SCENARIO_SECRET


def test_forms_trigger_and_polling_reach_the_emulator(wired: tuple[LoadedConfig, dict[str, Started]]) -> None:
    config, started = wired
    forms = started["google_forms"].url
    form_id = config.connectors["forms"].forms["brief"].form_id
    assert requests.get(f"{forms}/_emulator/state", timeout=10).json()["forms"][form_id]["trigger"] is True
    poll = config.connectors["forms"].poll
    assert (poll.api_url, poll.token_url) == (forms, f"{forms}/token")
    # The poller's own token request is accepted: the sandbox registered the configured key's public half.
    key = json.loads(poll.service_account.get_secret_value())
    token = ServiceAccountToken(poll, key, requests.Session()).get()
    listed = requests.get(f"{forms}/v1/forms/{form_id}/responses", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert listed.status_code == 200 and listed.json() == {}
