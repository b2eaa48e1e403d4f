"""Bitrix24's PHP-flavoured wire details: bracket-nested form fields, batch command strings."""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote


def build_query(params: dict[str, Any]) -> str:
    """PHP http_build_query: `fields[TITLE]=x&select[0]=ID`. Lists become indexed keys, None is omitted."""
    pairs: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}[{k}]" if prefix else str(k), v)
        elif isinstance(value, (list, tuple)):
            if not value:
                pairs.append((prefix, ""))
            for i, v in enumerate(value):
                walk(f"{prefix}[{i}]", v)
        elif isinstance(value, bool):
            pairs.append((prefix, "Y" if value else "N"))
        else:
            pairs.append((prefix, str(value)))

    walk("", params)
    # `$result[...]` references must survive as written: the server substitutes them before parsing.
    return "&".join(f"{quote(k, safe='[]')}={quote(v, safe='[]$')}" for k, v in pairs)


def parse_form(body: str) -> dict[str, Any]:
    """Parse `a[b][c]=1&a[d][]=2` into nested dicts the way PHP's parse_str does."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        head, _, rest = key.partition("[")
        parts = [head] + ([p.rstrip("]") for p in ("[" + rest).split("[")[1:]] if rest else [])
        node = out
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":
                part = str(sum(1 for k in node if k.isdigit()))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
    return out


def link_id(value: Any) -> str:
    """A `crm` link field holds `D_123`, `CO_5` or a plain `123` (all occur): return the id."""
    if isinstance(value, list):
        value = value[0] if value else ""
    text = str(value or "").strip()
    return text.rsplit("_", 1)[-1] if "_" in text else text
