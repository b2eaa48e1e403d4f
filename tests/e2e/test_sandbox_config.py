"""The sandbox's guards, fast: live mode refuses its default secrets, a taken port is one error line,
its store is emptied only when it is the sandbox's own, the shipped config lists runnable emulators."""
from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from relay.config import ConfigError, load_config
from relay.intake.base import IncomingEvent
from relay.sandbox import EMULATORS
from relay.sandbox.serve import planned, port_problem, sandbox_command
from relay.sandbox.store import MARKER, ForeignStore, empty_for_sandbox, is_ready, mark_ready
from relay.store import Store
from relay.store.schema import Cursor, InboxEvent
from relay.inbox import Inbox
from tests.e2e.test_sandbox import sandbox_config
from tests.support.process import ROOT

LIVE_ENV = {
    "RELAY_MODE": "live", "RELAY_ADMIN_PASSWORD_HASH": "scrypt:32768:8:1$abc$def", "RELAY_ADMIN_SECRET_KEY": "k" * 32,
    "B24_WEBHOOK_URL": "https://portal.example.ru/rest/7/realcode123/", "B24_APPLICATION_TOKEN": "real-app-token",
    "TELEGRAM_BOT_TOKEN": "123456:REAL-token", "TELEGRAM_WEBHOOK_SECRET": "real-secret", "TOCHKA_JWT_KEY": "real-jwt",
    "TBANK_TOKEN": "real-tbank", "RELAY_1C_UPLOAD_TOKEN": "real-upload", "FINTABLO_TOKEN": "real-fintablo",
    "RELAY_N8N_SECRET": "real-n8n", "PLANFIX_TOKEN": "real-planfix-token", "PLANFIX_SCENARIO_SECRET": "real-scenario-secret",
    "FORMS_BRIEF_SECRET": "real-brief-form-secret-0123456789",
}
SANDBOX_SECRETS = ["sources.n8n.secret", "connectors.bitrix24.webhook_url", "connectors.bitrix24.application_token",
                   "connectors.telegram.bots.main.token", "connectors.telegram.bots.main.secret_token",
                   "connectors.bank.tochka.token", "connectors.bank.tbank.token", "connectors.bank.onec.token",
                   "connectors.fintablo.token", "connectors.planfix.token", "connectors.planfix.scenario_secret",
                   "connectors.forms.forms.brief.secret"]


def test_live_mode_refuses_every_sandbox_default_secret_and_names_its_line() -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(ROOT / "config.yaml", environ={"RELAY_MODE": "live"})
    found = {p.field: p for p in refused.value.problems if "sandbox's default secret" in p.message}
    assert sorted(found) == sorted(SANDBOX_SECRETS)
    lines = (ROOT / "config.yaml").read_text(encoding="utf-8").splitlines()
    assert "B24_WEBHOOK_URL" in lines[found["connectors.bitrix24.webhook_url"].line - 1]
    assert "TELEGRAM_BOT_TOKEN" in lines[found["connectors.telegram.bots.main.token"].line - 1]
    # One environment variable left at its default is the one problem.
    with pytest.raises(ConfigError) as one:
        load_config(ROOT / "config.yaml", environ={k: v for k, v in LIVE_ENV.items() if k != "FINTABLO_TOKEN"})
    assert [p.field for p in one.value.problems] == ["connectors.fintablo.token"]
    assert load_config(ROOT / "config.yaml", environ=LIVE_ENV).settings.mode == "live"


def test_the_refused_secrets_are_the_emulators_demo_credentials() -> None:
    """Keeps the refusal list true: every demo secret a spec names is in that emulator's demo seed or defaults.
    The Google Forms emulator has no credential of its own the relay holds: the form's secret is the relay's
    (its shipped default starts with sandbox-only, refused by the test above)."""
    sources = {"bitrix24": "emulators/bitrix24/seeds/demo.yaml", "telegram": "emulators/telegram/seeds/demo.yaml",
               "fintablo": "emulators/fintablo/seeds/demo.yaml", "tochka": "emulators/tochka/seeds/demo.yaml",
               "tbank": "emulators/tbank/seeds/demo.yaml", "planfix": "emulators/planfix/app.py emulators/planfix/seeds/demo.yaml",
               "google_forms": ""}
    assert sorted(EMULATORS) == sorted(sources)
    for name, spec in EMULATORS.items():
        assert bool(spec.demo_secrets) == bool(sources[name]), name
        text = "".join((ROOT / path).read_text(encoding="utf-8") for path in sources[name].split())
        for secret in spec.demo_secrets:
            assert secret in text, (name, secret)


def test_shipped_config_lists_emulators_that_can_run_together() -> None:
    config = load_config(ROOT / "config.yaml", environ={})
    plan = planned(config)
    assert [spec.name for spec, _ in plan] == ["bitrix24", "telegram", "fintablo", "tochka", "tbank", "planfix", "google_forms"]
    for spec, entry in plan:
        assert (config.base_dir / entry.seed).is_file(), entry.seed
        assert spec.connector in config.connectors, spec.name  # every emulator has its connector pointed at it


def test_a_taken_port_is_one_error_line_and_nothing_keeps_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, ports = sandbox_config(tmp_path, f"sqlite:///{tmp_path / 'sandbox.db'}")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports["tochka"]))
        holder.listen()
        assert sandbox_command(load_config(path), demo=False) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: port {ports['tochka']} for the Tochka Bank Open API emulator is taken")
    assert "sandbox.tochka.port" in err[0]
    for name in ("bitrix24", "telegram", "fintablo"):  # started before the clash, stopped again
        assert port_problem(ports[name]) == "", name
    assert not (tmp_path / "sandbox.db").exists()  # refused before the store was touched


def test_sandbox_command_refuses_a_live_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = sandbox_config(tmp_path, f"sqlite:///{tmp_path / 'sandbox.db'}")
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["mode"] = "live"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    config = load_config(path, environ=LIVE_ENV)
    assert sandbox_command(config, demo=True) == 1
    assert "is in live mode; the sandbox needs `mode: sandbox`" in capsys.readouterr().err


def test_the_store_is_emptied_only_when_it_is_the_sandboxes_own(db_url: str) -> None:
    store = Store(db_url)
    try:
        store.migrate()
        Inbox(store).add("n8n", [IncomingEvent("order.paid", "shop:1", {"n": 1}, "live-1")])
        with pytest.raises(ForeignStore):
            empty_for_sandbox(db_url)  # a live relay's events: refused, kept
        with store.session() as s:
            assert s.query(InboxEvent).count() == 1
            s.query(InboxEvent).delete()
        empty_for_sandbox(db_url)  # empty: taken, and marked as the sandbox's
        assert not is_ready(store)
        mark_ready(store, "http://127.0.0.1:8080")
        assert is_ready(store)
        Inbox(store).add("n8n", [IncomingEvent("order.paid", "shop:1", {"n": 1}, "sandbox-1")])
        empty_for_sandbox(db_url)  # the sandbox's own: emptied at the next start
        with store.session() as s:
            assert s.query(InboxEvent).count() == 0
            assert s.get(Cursor, MARKER) is not None
        assert not is_ready(store)
    finally:
        store.dispose()
