"""Secrets never reach logs, traces or error messages.

Every secret the config holds is registered here at start; URL shapes that embed credentials
(Bitrix24 webhook codes, Telegram bot tokens, user:password@ in URLs) are masked by pattern too.
"""
from __future__ import annotations

import re
import threading
from typing import Any

MASK = "***"
_PATTERNS = [
    (re.compile(r"(/rest/\d+/)[A-Za-z0-9_\-]{4,}(/)"), r"\1" + MASK + r"\2"),
    (re.compile(r"(/bot)\d+:[A-Za-z0-9_\-]+"), r"\1" + MASK),
    (re.compile(r"(://[^/\s:@]+:)[^@\s/]+(@)"), r"\1" + MASK + r"\2"),
    (re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|basic)\s+)[A-Za-z0-9._\-+/=]+"), r"\1" + MASK),
]


class Redactor:
    def __init__(self) -> None:
        self._secrets: list[str] = []
        self._lock = threading.Lock()

    def add(self, *secrets: str) -> None:
        with self._lock:
            # Short values ("1", "yes") would mangle ordinary text; real secrets are longer.
            merged = set(self._secrets) | {s for s in secrets if s and len(s) >= 6}
            self._secrets = sorted(merged, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        for pattern, repl in _PATTERNS:
            value = pattern.sub(repl, value)
        return value

    def value(self, value: Any) -> Any:
        """Redact every string inside nested dicts and lists."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value


REDACTOR = Redactor()
