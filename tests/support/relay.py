"""Helpers to build a relay for a test: config text, a runtime on a given database, signing."""
from __future__ import annotations

import hashlib
import hmac
import json
import textwrap
from pathlib import Path
from typing import Any

from relay.config import load_config
from relay.runtime import Runtime

SECRET = "test-webhook-secret-123"


def base_config(db_url: str, extra: str = "") -> str:
    return textwrap.dedent(f"""\
        store:
          url: "{db_url}"
        web:
          port: 0
        worker:
          threads: 4
          poll_seconds: 0.05
          lease_seconds: 2
          max_attempts: 4
          backoff_initial_seconds: 0.05
          backoff_max_seconds: 0.2
        logging:
          level: WARNING
        sources:
          shop:
            type: webhook
            secret: {SECRET}
            kind: "{{{{ payload.type }}}}"
            entity_key: "{{{{ payload.entity | default('') }}}}"
            idempotency_key: "{{{{ payload.id | default('') }}}}"
        """) + textwrap.dedent(extra)


def make_runtime(config_path: Path) -> Runtime:
    return Runtime(load_config(config_path))


def signed(payload: dict[str, Any], secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {"X-Relay-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(), "Content-Type": "application/json"}
