"""A relay with every intake configured, for fuzzing: each source, the admin UI, known secrets.

Outside systems are never called (the connectors only talk to them from the worker, which does not
run here), so their URLs point at a closed port. The Tochka webhook key is a fresh RSA pair: the
fuzzer can sign claims with it (authenticated but malformed) or with another key (forged).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from sqlalchemy import delete, func, select
from werkzeug.security import generate_password_hash

from relay.config import load_config
from relay.runtime import Runtime
from relay.store.schema import BankOperation, InboxEvent, Lease
from relay.web import create_app
from tests.support.relay import base_config

MAX_BODY = 4096
PASSWORD = "fuzz-admin-password-9431"
HMAC_SECRET = "fuzz-hmac-secret-5d1f0a"
TOKEN_SECRET = "fuzz-token-secret-77c2e9"
B24_CODE = "fuzzwebhookcode0b24"
B24_URL = f"http://127.0.0.1:9/rest/1/{B24_CODE}/"
B24_TOKEN = "fuzz0application0token000000042"
TG_TOKEN = "7000000042:AAFuzzTokenFuzzTokenFuzzToken12345"
TG_SECRET = "fuzz-telegram-secret_31415"
ONEC_TOKEN = "fuzz-onec-upload-token-2718"
TOCHKA_TOKEN = "fuzz-tochka-api-token-1618"
ADMIN_KEY = "fuzz-admin-session-key-0123456789abcdef"
PLANFIX_TOKEN = "fuzz-planfix-rest-token-5150"
PLANFIX_SECRET = "fuzz-planfix-scenario-secret-8086"
FORMS_SECRET = "fuzz-forms-hmac-secret-0451-xyz"
OUR_ACCOUNT = "40702810575689348581"

# Every value the relay must never show: the secrets and the parts of secrets that work alone.
SECRETS = [HMAC_SECRET, TOKEN_SECRET, B24_URL, B24_CODE, B24_TOKEN, TG_TOKEN, TG_TOKEN.split(":")[1], TG_SECRET,
           ONEC_TOKEN, TOCHKA_TOKEN, ADMIN_KEY, PASSWORD, PLANFIX_TOKEN, PLANFIX_SECRET, FORMS_SECRET]

SOURCES = f"""\
  tokenhook:
    type: webhook
    auth: token
    header: X-Hook-Token
    secret: {TOKEN_SECRET}
    kind: "{{{{ payload.type | default('') }}}}"
    idempotency_key: "{{{{ payload.id | default('') }}}}"
"""


@lru_cache(maxsize=1)
def tochka_keys() -> tuple[Any, Any]:
    """(the key the relay trusts, a forger's key): made once per test session, 2048-bit like Tochka's."""
    return (rsa.generate_private_key(public_exponent=65537, key_size=2048),
            rsa.generate_private_key(public_exponent=65537, key_size=2048))


def sign_claims(claims: dict[str, Any], forged: bool = False, algorithm: str = "RS256") -> bytes:
    trusted, forger = tochka_keys()
    return jwt.encode(claims, forger if forged else trusted, algorithm=algorithm).encode()


def config_text(db_url: str, jwk_path: Path) -> str:
    text = base_config(db_url, f"""\
        admin:
          password_hash: ${{FUZZ_PASSWORD_HASH}}
          secret_key: ${{FUZZ_ADMIN_KEY}}
        connectors:
          bitrix24:
            webhook_url: "{B24_URL}"
            application_token: {B24_TOKEN}
          telegram:
            bots:
              main:
                token: "{TG_TOKEN}"
                secret_token: "{TG_SECRET}"
                api_url: "http://127.0.0.1:9"
          bank:
            tochka:
              base_url: http://127.0.0.1:9/uapi
              token: {TOCHKA_TOKEN}
              accounts: ["{OUR_ACCOUNT}/044525104"]
              webhook_jwk: {jwk_path}
            onec:
              token: {ONEC_TOKEN}
          planfix:
            account_url: http://127.0.0.1:9/rest
            token: {PLANFIX_TOKEN}
            scenario_secret: {PLANFIX_SECRET}
          forms:
            forms:
              brief:
                secret: {FORMS_SECRET}
        """)
    text = text.replace("web:\n  port: 0", f"web:\n  port: 0\n  max_body_bytes: {MAX_BODY}")
    text = text.replace("secret: test-webhook-secret-123", f"secret: {HMAC_SECRET}")
    text = text.replace("sources:\n", "sources:\n" + SOURCES, 1)
    return text.replace("logging:\n  level: WARNING", "logging:\n  level: INFO")


@dataclass
class FuzzRelay:
    runtime: Runtime
    app: Flask

    def stored(self) -> int:
        """Rows a request could have left behind: inbox events and bank operations."""
        with self.runtime.store.session() as s:
            events = s.scalar(select(func.count()).select_from(InboxEvent)) or 0
            operations = s.scalar(select(func.count()).select_from(BankOperation)) or 0
        return int(events) + int(operations)

    def forget(self) -> int:
        """Delete whatever requests left behind; returns how many rows that was."""
        left = self.stored()
        if left:
            with self.runtime.store.session() as s:
                s.execute(delete(InboxEvent))
                s.execute(delete(BankOperation))
        return left

    def forget_failed_logins(self) -> None:
        """The login fuzzing spends the failed-login limits; a later test that logs in needs them back."""
        with self.runtime.store.session() as s:
            s.execute(delete(Lease).where(Lease.name.startswith("admin-login:")))

    def close(self) -> None:
        self.runtime.close()


def build(db_url: str, folder: Path) -> FuzzRelay:
    trusted, _ = tochka_keys()
    jwk_path = folder / "tochka.jwk"
    jwk_path.write_text(jwt.algorithms.RSAAlgorithm.to_jwk(trusted.public_key()), encoding="utf-8")
    environ = {**os.environ, "FUZZ_PASSWORD_HASH": generate_password_hash(PASSWORD), "FUZZ_ADMIN_KEY": ADMIN_KEY}
    config = folder / "config.yaml"
    config.write_text(config_text(db_url, jwk_path), encoding="utf-8")
    runtime = Runtime(load_config(config, environ=environ))
    app = create_app(runtime)
    app.testing = False  # errors must come out as the real server shows them (a 500), not as raised exceptions
    return FuzzRelay(runtime, app)


def leaked(headers: Any, body: bytes) -> list[str]:
    """Which secrets a response shows (in any header or in the body)."""
    text = body.decode("utf-8", "replace") + "\n" + "\n".join(f"{k}: {v}" for k, v in headers.items())
    return [s for s in SECRETS if s in text]
