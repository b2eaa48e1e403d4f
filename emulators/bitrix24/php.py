"""PHP wire habits that Bitrix24 clients depend on: `parse_str` bracket nesting and `json_encode` output.

Bitrix24 is PHP. Its REST server reads form and query parameters with `parse_str` (so `a[b][]=1`
nests, `a.b` becomes `a_b`, numeric keys become list positions) and answers with `json_encode`
(so an empty map is `[]` and a map keyed exactly `0..n-1` is a list). Clients written against the
real portal rely on these shapes, so the emulator reproduces them here, in one place.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterable
from urllib.parse import quote_plus, unquote_plus

_NAME_FIX = re.compile(r"[ .\[]")


def parse_str(query: str) -> dict[str, Any]:
    """Parse a query string or form body exactly as PHP's `parse_str` would (bracket nesting)."""
    root: dict[str, Any] = {}
    for pair in query.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        register(root, unquote_plus(name), unquote_plus(value))
    return listify(root)


def parse_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Like `parse_str`, for already-decoded (name, value) pairs such as multipart form fields."""
    root: dict[str, Any] = {}
    for name, value in pairs:
        register(root, name, value)
    return listify(root)


def _split_name(var: str) -> list[str | None] | None:
    """Turn `a[b][]` into ["a", "b", None] following php_register_variable_ex; None = append."""
    var = var.lstrip(" ")
    i, n = 0, len(var)
    base: list[str] = []
    while i < n and var[i] != "[":
        base.append("_" if var[i] in " ." else var[i])
        i += 1
    if not base:
        return None
    keys: list[str | None] = ["".join(base)]
    while i < n and var[i] == "[":
        close = var.find("]", i + 1)
        if close == -1:
            if len(keys) == 1:  # "a[b" is the plain variable "a_b"
                keys[0] = keys[0] + "_" + _NAME_FIX.sub("_", var[i + 1:])
            break  # a deeper unterminated group is dropped, as PHP does
        keys.append(None if close == i + 1 else var[i + 1:close])
        i = close + 1  # anything after "]" that is not "[" is ignored
    return keys


def _next_index(table: dict[str, Any]) -> str:
    ints = [int(k) for k in table if _is_int_key(k)]
    return str(max(ints) + 1 if ints else 0)


def _is_int_key(key: str) -> bool:
    """PHP turns canonical decimal strings ("0", "12", "-3", not "01") into integer array keys."""
    return bool(re.fullmatch(r"-?(0|[1-9][0-9]*)", key))


def register(root: dict[str, Any], name: str, value: Any) -> None:
    """Store one decoded variable into `root`, creating nested arrays along the bracket path."""
    keys = _split_name(name)
    if keys is None:
        return
    table = root
    for key in keys[:-1]:
        key = _next_index(table) if key is None else key
        child = table.get(key)
        if not isinstance(child, dict):
            child = {}
            table[key] = child
        table = child
    last = keys[-1]
    table[_next_index(table) if last is None else last] = value


def listify(value: Any) -> Any:
    """Recursively turn maps keyed exactly "0".."n-1" (in order) into lists, as PHP arrays behave."""
    if isinstance(value, dict):
        converted = {str(k): listify(v) for k, v in value.items()}
        if converted and list(converted) == [str(i) for i in range(len(converted))]:
            return list(converted.values())
        return converted
    if isinstance(value, list):
        return [listify(v) for v in value]
    return value


def as_list(value: Any) -> list[Any]:
    """A PHP array used as a list: list → itself, map → its values, scalar → [scalar], None → []."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    return [value]


def php_normalize(value: Any) -> Any:
    """Give a Python value the shape `json_encode` would give the equivalent PHP array."""
    if isinstance(value, dict):
        if not value:
            return []
        keys = [str(k) for k in value]
        items = [php_normalize(v) for v in value.values()]
        if keys == [str(i) for i in range(len(keys))]:
            return items
        return dict(zip(keys, items))
    if isinstance(value, (list, tuple)):
        return [php_normalize(v) for v in value]
    return value


def php_json(value: Any) -> str:
    """`json_encode` default flags: \\uXXXX for non-ASCII and escaped slashes ("[\\/B]")."""
    text = json.dumps(php_normalize(value), ensure_ascii=True, separators=(",", ":"))
    return text.replace("/", "\\/")


def urlencode(value: str) -> str:
    """PHP `urlencode`: like quote_plus, but `~` is encoded too."""
    return quote_plus(value, safe="").replace("~", "%7E")


def build_query(data: dict[str, Any], prefix: str | None = None) -> str:
    """PHP `http_build_query`: nested keys as `a%5Bb%5D`, booleans as 1/0, None skipped."""
    parts: list[str] = []
    for key, val in data.items():
        name = str(key) if prefix is None else f"{prefix}[{key}]"
        if isinstance(val, (dict, list, tuple)):
            items = val.items() if isinstance(val, dict) else enumerate(val)
            nested = build_query({str(k): v for k, v in items}, name)
            if nested:
                parts.append(nested)
            continue
        if val is None:
            continue
        text = ("1" if val else "0") if isinstance(val, bool) else str(val)
        parts.append(f"{urlencode(name)}={urlencode(text)}")
    return "&".join(parts)
