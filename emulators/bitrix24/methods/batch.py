"""`batch`: up to 50 commands in one request (one tick of the leaky bucket), with `$result[...]`.

Follows CRestProvider::methodsBatch and CRestUtil::processBatchElement: each command is split like
`parse_url`, its query parsed with `parse_str`, then every string value is searched for
`$result[key][FIELD]...` references to earlier answers. A value that IS a reference is replaced by
the referenced value (which may be an array); a reference inside a longer string is replaced by
its text. The outer answer is always HTTP 200; per-command errors go to `result_error`.
"""
from __future__ import annotations

import re
from typing import Any

from ..errors import RestError, batch_length_exceeded
from ..php import parse_str
from . import Call, rest

MAX_COMMANDS = 50
_REF = re.compile(r"\$(result_error|result_total|result_next|result_time|result)([^\s]*)", re.IGNORECASE)
_PATH = re.compile(r"\[([^\]]+)\]")


def _index(value: Any, key: str) -> Any:
    """PHP `isset($r[$key]) ? $r[$key] : stop` for the shapes results take here (None = stop)."""
    if isinstance(value, dict):
        return value.get(key)
    if isinstance(value, (list, str)) and key.isdigit() and int(key) < len(value):
        return value[int(key)]
    return None


def substitute(value: Any, results: dict[str, dict[str, Any]]) -> Any:
    """Replace `$result[...]` references in one parameter value (recursing into arrays)."""
    if isinstance(value, dict):
        return {k: substitute(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, results) for v in value]
    if not isinstance(value, str) or "$" not in value:
        return value
    query: Any = value
    for match in list(_REF.finditer(value)):
        keys = _PATH.findall(match.group(2))
        if not keys:
            continue
        found: Any = results[match.group(1).lower()]
        for key in keys:
            nxt = _index(found, key)
            if nxt is None:
                break
            found = nxt
        if match.group(0) == query:
            query = found
            continue
        if isinstance(found, (int, float)) and not isinstance(found, bool):
            found = str(found)
        if isinstance(found, str) and isinstance(query, str):
            query = query.replace(match.group(0), found)
    return query


def split_command(command: str) -> tuple[str, str]:
    """"crm.deal.get?id=1#x" → ("crm.deal.get", "id=1"), like parse_url (the fragment is lost)."""
    command = command.split("#", 1)[0]
    path, _, query = command.partition("?")
    return path, query


@rest("batch", scope=None, batch=False)
def batch(call: Call) -> dict[str, Any]:
    from ..dispatch import invoke, normalize_method
    portal = call.portal
    halt = str(call.params.get("halt", 0)).strip().lower() not in ("", "0", "false", "n")
    cmd = call.params.get("cmd") or {}
    commands = list(cmd.items()) if isinstance(cmd, dict) else list(enumerate(cmd if isinstance(cmd, list) else []))
    out: dict[str, dict[str, Any]] = {"result": {}, "result_error": {}, "result_total": {}, "result_next": {},
                                      "result_time": {}}
    for n, (key, command) in enumerate(commands):
        key = str(key)
        try:
            if n >= MAX_COMMANDS:
                raise batch_length_exceeded()
            path, query = split_command(str(command))
            method = normalize_method(path)
            params = substitute(parse_str(query), out)
            if isinstance(params, list):
                params = {str(i): v for i, v in enumerate(params)}
            start = params.pop("start", None)
            portal.counter.sub_call(method)
            reply, timing = invoke(portal, method, params, start, in_batch=True)
        except RestError as exc:
            out["result_error"][key] = {"error": exc.code, "error_description": exc.description}
            if halt:
                break
            continue
        out["result"][key] = reply.result
        if reply.total is not None:
            out["result_total"][key] = reply.total
        if reply.next is not None:
            out["result_next"][key] = reply.next
        out["result_time"][key] = timing
    return out
