"""The emulators the sandbox ships with: Bitrix24, Telegram, Fintablo, Tochka, T-Bank, Planfix, Google Forms.

Each emulator accepts the credentials the relay is configured with (added to its demo seed), so the
connectors work unchanged whatever `${VAR:-default}` resolved to; only their URLs are rewritten.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask
from pydantic import SecretStr

from relay.sandbox import builtin_forms
from relay.sandbox.emulators import EmulatorSpec, register_emulator, section, with_section

# What rules/*.yaml listen to: deals (linked deals, payments), companies (holdings), contacts, and
# smart-process items (payment requests; only the generic ONCRMDYNAMICITEM*, not the per-type ones).
BITRIX24_EVENTS = ["ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE", "ONCRMCOMPANYADD", "ONCRMCOMPANYUPDATE",
                   "ONCRMCONTACTADD", "ONCRMCONTACTUPDATE", "ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMUPDATE"]
TELEGRAM_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
TOCHKA_EVENTS = ["incomingPayment", "outgoingPayment"]
_REST_PATH = re.compile(r"/rest/(\d+)/([^/]+)/?$")


def _seed(seed: Path | None, default: Path) -> dict[str, Any]:
    from emulators.common.control import read_seed
    return dict(read_seed(str(seed) if seed else None, default))


def _secret(value: Any) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value or "")


# --- Bitrix24 ---------------------------------------------------------------------------------------
def webhook_identity(webhook_url: str) -> tuple[int, str] | None:
    """(user id, code) of an incoming-webhook URL `https://portal/rest/<user>/<code>/`."""
    found = _REST_PATH.search(urlsplit(webhook_url).path)
    return (int(found.group(1)), found.group(2)) if found else None


def _bitrix24_build(seed: Path | None, settings: Any) -> Flask:
    from emulators.bitrix24 import DEMO_SEED, create_app
    options: dict[str, Any] = {}
    if settings is not None:
        identity = webhook_identity(_secret(settings.webhook_url))
        if identity:
            options.update(webhook_user_id=identity[0], webhook_code=identity[1])
        options["application_token"] = _secret(settings.application_token)
    return create_app(str(seed or DEMO_SEED), **options)


def _bitrix24_rest(app: Flask, url: str) -> str:
    config = app.extensions["bitrix24"].config
    return f"{url}/rest/{config.webhook_user_id}/{config.webhook_code}/"


def _bitrix24_point(settings: Any, url: str, app: Flask) -> Any:
    return settings.model_copy(update={"webhook_url": SecretStr(_bitrix24_rest(app, url))})


def _bitrix24_wire(app: Flask, url: str, relay: str, settings: Any) -> list[str]:
    portal = app.extensions["bitrix24"]
    for event in BITRIX24_EVENTS:
        portal.add_handler(event, f"{relay}/hooks/bitrix24")
    rows = [", ".join(BITRIX24_EVENTS[i:i + 5]) for i in range(0, len(BITRIX24_EVENTS), 5)]
    return [f"{row}," for row in rows[:-1]] + [f"{rows[-1]} → {relay}/hooks/bitrix24"]


# --- Telegram ---------------------------------------------------------------------------------------
def _telegram_build(seed: Path | None, settings: Any) -> Flask:
    from emulators.telegram import create_app
    from emulators.telegram.seed import DEMO_SEED
    tokens = [_secret(bot.token) for bot in settings.bots.values()] if settings is not None else []
    return create_app(seed=seed or DEMO_SEED, bots=tokens)


def _telegram_point(settings: Any, url: str, app: Flask) -> Any:
    bots = {name: bot.model_copy(update={"api_url": url}) for name, bot in settings.bots.items()}
    return settings.model_copy(update={"bots": bots})


def _telegram_wire(app: Flask, url: str, relay: str, settings: Any) -> list[str]:
    """setWebhook over the Bot API, as an admin does once for a real bot (docs/telegram.md)."""
    lines = []
    for name, bot in (settings.bots.items() if settings is not None else []):
        api = f"{url}/bot{_secret(bot.token)}"
        hook = f"{relay}/hooks/telegram/{name}"
        answer = requests.post(f"{api}/setWebhook", timeout=10, json={
            "url": hook, "secret_token": _secret(bot.secret_token), "allowed_updates": TELEGRAM_UPDATES}).json()
        if not answer.get("ok"):
            raise RuntimeError(f"Telegram emulator refused setWebhook for bot {name}: {answer.get('description')}")
        username = requests.get(f"{api}/getMe", timeout=10).json()["result"].get("username")
        lines.append(f"bot {name} (@{username}) → {hook}, with its secret_token")
    return lines


def _telegram_close(app: Flask) -> None:
    app.extensions["telegram"].close()


# --- Fintablo ---------------------------------------------------------------------------------------
def _fintablo_build(seed: Path | None, settings: Any) -> Flask:
    from emulators.fintablo.app import DEFAULT_SEED, create_app
    data = _seed(seed, DEFAULT_SEED)
    if settings is not None:
        data["tokens"] = [*data.get("tokens", []), _secret(settings.token)]
    return create_app(data)


def _fintablo_point(settings: Any, url: str, app: Flask) -> Any:
    return settings.model_copy(update={"base_url": url})


# --- Tochka -----------------------------------------------------------------------------------------
def _tochka_build(seed: Path | None, settings: Any) -> Flask:
    from emulators.tochka.app import DEFAULT_SEED, create_app
    data = _seed(seed, DEFAULT_SEED)
    tochka = section(settings, "tochka")
    if tochka is not None:
        client = (data.get("clients") or [{}])[0].get("client_id", "relay-demo-client")
        data["static_tokens"] = [*data.get("static_tokens", []), {"token": _secret(tochka.token), "client_id": client}]
    return create_app(data, webhook_sync=False)  # webhooks from background threads, as the bank sends them


def _tochka_point(settings: Any, url: str, app: Flask) -> Any:
    from emulators.tochka.signing import public_jwk
    if section(settings, "tochka") is None:
        return settings
    jwk = json.dumps(public_jwk(app.extensions["tochka"].key))
    return with_section(settings, "tochka", base_url=f"{url}/uapi", webhook_jwk=jwk)


def _tochka_wire(app: Flask, url: str, relay: str, settings: Any) -> list[str]:
    """Register the webhook through the bank's API: Tochka first sends one test webhook per event,
    which the relay must answer with 200 (and stores nothing)."""
    tochka = section(settings, "tochka")
    if tochka is None:
        return []
    token = _secret(tochka.token)
    client = app.extensions["tochka"].static_tokens.get(token, "relay-demo-client")
    hook = f"{relay}/hooks/bank/tochka"
    answer = requests.put(f"{url}/uapi/webhook/v1.0/{client}", headers={"Authorization": f"Bearer {token}"}, timeout=30,
                          json={"webhooksList": TOCHKA_EVENTS, "url": hook})
    if answer.status_code != 200:
        raise RuntimeError(f"Tochka emulator refused the webhook registration: {answer.status_code} {answer.text[:200]}")
    return [f"{', '.join(TOCHKA_EVENTS)} → {hook} (signed RS256 JWT; the relay verifies it with the emulator's key)"]


# --- T-Bank -----------------------------------------------------------------------------------------
def _tbank_build(seed: Path | None, settings: Any) -> Flask:
    from emulators.tbank.app import DEFAULT_SEED, create_app
    data = _seed(seed, DEFAULT_SEED)
    tbank = section(settings, "tbank")
    if tbank is not None:
        data["tokens"] = [*data.get("tokens", []), _secret(tbank.token)]
    return create_app(data, webhook_sync=False)


def _tbank_point(settings: Any, url: str, app: Flask) -> Any:
    return with_section(settings, "tbank", base_url=f"{url}/openapi") if section(settings, "tbank") else settings


# --- Planfix ---------------------------------------------------------------------------------------
def _planfix_build(seed: Path | None, settings: Any) -> Flask:
    from emulators.planfix import create_app
    return create_app(str(seed) if seed else None, token=_secret(settings.token) if settings is not None else None)


def _planfix_point(settings: Any, url: str, app: Flask) -> Any:
    return settings.model_copy(update={"account_url": f"{url}/rest"})


def _planfix_wire(app: Flask, url: str, relay: str, settings: Any) -> list[str]:
    """The seed's scenarios ("send HTTP request") post to paths like /hooks/planfix/task-event, with
    the configured scenario_secret in the configured header (whatever the seed wrote there)."""
    state = app.extensions["planfix"]
    state.hook_base = relay
    header = settings.secret_header.lower()
    for rule in state.scenario_rules:
        request = rule.get("request") or {}
        headers = {k: v for k, v in (request.get("headers") or {}).items() if k.lower() != header}
        rule["request"] = {**request, "headers": {**headers, settings.secret_header: _secret(settings.scenario_secret)}}
    return [f"scenario requests → {relay}/hooks/planfix/… (with the scenario_secret in {settings.secret_header})"]


for spec in (
    EmulatorSpec("bitrix24", "Bitrix24 portal", _bitrix24_build, connector="bitrix24", point=_bitrix24_point,
                 wire=_bitrix24_wire, describe=lambda app, url: f"REST {_bitrix24_rest(app, url)}",
                 demo_secrets=("demo0webhook0key", "demo0application0token000000001")),
    EmulatorSpec("telegram", "Telegram Bot API", _telegram_build, connector="telegram", point=_telegram_point,
                 wire=_telegram_wire, close=_telegram_close, demo_secrets=("7000000001:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-bs",)),
    EmulatorSpec("fintablo", "Fintablo API", _fintablo_build, connector="fintablo", point=_fintablo_point,
                 demo_secrets=("ft-demo-7f3c9a1e5b",)),
    EmulatorSpec("tochka", "Tochka Bank Open API", _tochka_build, connector="bank", point=_tochka_point,
                 wire=_tochka_wire, describe=lambda app, url: f"API {url}/uapi", demo_secrets=("tochka-demo-token",)),
    EmulatorSpec("tbank", "T-Bank business API", _tbank_build, connector="bank", point=_tbank_point,
                 describe=lambda app, url: f"API {url}/openapi", demo_secrets=("tbank-demo-token",)),
    EmulatorSpec("planfix", "Planfix REST v2", _planfix_build, connector="planfix", point=_planfix_point,
                 wire=_planfix_wire, describe=lambda app, url: f"REST {url}/rest/",
                 demo_secrets=("5d80e21cb3e12345678bdd568a2226d5", "demo-secret")),
    # The form's secret is the relay's own (config.yaml's default starts with sandbox-only, refused live).
    builtin_forms.SPEC,
):
    register_emulator(spec)
