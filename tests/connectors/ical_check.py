"""A small RFC 5545 checker for the feeds the relay serves: what calendar apps trip over first.

Checks the wire form (CRLF only, lines folded at 75 octets without splitting a UTF-8 character,
continuation lines starting with a space), component nesting, the required properties of VCALENDAR
and VEVENT, DTSTART/DTEND value types and order, and that every TZID used has its VTIMEZONE.
"""
from __future__ import annotations

import re
from datetime import date, datetime

_NAME = re.compile(r"^[A-Za-z0-9-]+$")


def _unfold(body: bytes, problems: list[str]) -> list[str]:
    if b"\r\n" not in body or re.search(rb"(?<!\r)\n", body) or re.search(rb"\r(?!\n)", body):
        problems.append("lines must end with CRLF, and only with CRLF")
    physical = body.split(b"\r\n")
    if physical and physical[-1] == b"":
        physical = physical[:-1]
    else:
        problems.append("the last line must end with CRLF")
    logical: list[str] = []
    for number, raw in enumerate(physical, 1):
        if len(raw) > 75:
            problems.append(f"line {number} is {len(raw)} octets long (at most 75 before folding)")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"line {number} is not UTF-8 (a fold split a character?)")
            continue
        if text[:1] in (" ", "\t"):
            if not logical:
                problems.append(f"line {number} continues nothing")
                continue
            logical[-1] += text[1:]
        else:
            logical.append(text)
    return logical


def _parse(line: str) -> tuple[str, dict[str, str], str] | None:
    head, sep, value = line.partition(":")
    if not sep:
        return None
    name, *params = head.split(";")
    if not _NAME.match(name):
        return None
    parsed = {}
    for param in params:
        key, eq, val = param.partition("=")
        if not eq:
            return None
        parsed[key.upper()] = val
    return name.upper(), parsed, value


def _when(params: dict[str, str], value: str) -> date | datetime | None:
    try:
        if params.get("VALUE") == "DATE":
            return datetime.strptime(value, "%Y%m%d").date()
        return datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
    except ValueError:
        return None


def problems_of(body: bytes) -> list[str]:
    problems: list[str] = []
    stack: list[tuple[str, list[tuple[str, dict[str, str], str]]]] = []
    done: list[tuple[str, list[tuple[str, dict[str, str], str]]]] = []
    for line in _unfold(body, problems):
        parsed = _parse(line)
        if parsed is None:
            problems.append(f"not a content line: {line[:60]!r}")
            continue
        name, params, value = parsed
        if name == "BEGIN":
            stack.append((value.upper(), []))
        elif name == "END":
            if not stack or stack[-1][0] != value.upper():
                problems.append(f"END:{value} does not close {stack[-1][0] if stack else 'anything'}")
                continue
            done.append(stack.pop())
        elif not stack:
            problems.append(f"{name} outside any component")
        else:
            stack[-1][1].append((name, params, value))
    if stack:
        problems.append(f"unclosed components: {[c for c, _ in stack]}")
    calendars = [props for kind, props in done if kind == "VCALENDAR"]
    if len(calendars) != 1:
        problems.append(f"expected one VCALENDAR, found {len(calendars)}")
    for props in calendars:
        names = [n for n, _, _ in props]
        for required in ("PRODID", "VERSION"):
            if names.count(required) != 1:
                problems.append(f"VCALENDAR needs exactly one {required}")
        if ("VERSION", {}, "2.0") not in props:
            problems.append("VERSION must be 2.0")
    zones = {v for kind, props in done if kind == "VTIMEZONE" for n, _, v in props if n == "TZID"}
    uids: list[str] = []
    for kind, props in done:
        if kind != "VEVENT":
            continue
        by_name: dict[str, list[tuple[dict[str, str], str]]] = {}
        for n, p, v in props:
            by_name.setdefault(n, []).append((p, v))
            if "TZID" in p and p["TZID"] not in zones:
                problems.append(f"{n} uses TZID={p['TZID']} but no VTIMEZONE defines it")
        for required in ("UID", "DTSTAMP", "DTSTART"):
            if len(by_name.get(required, [])) != 1:
                problems.append(f"VEVENT needs exactly one {required} (has {len(by_name.get(required, []))})")
        if "DTEND" in by_name and "DURATION" in by_name:
            problems.append("VEVENT has both DTEND and DURATION")
        uids += [v for _, v in by_name.get("UID", [])]
        if by_name.get("DTSTAMP") and not by_name["DTSTAMP"][0][1].endswith("Z"):
            problems.append("DTSTAMP must be in UTC")
        if by_name.get("DTSTART") and by_name.get("DTEND"):
            (sp, sv), (ep, ev) = by_name["DTSTART"][0], by_name["DTEND"][0]
            if sp.get("VALUE") != ep.get("VALUE"):
                problems.append(f"DTSTART and DTEND differ in value type ({sv} / {ev})")
            start, end = _when(sp, sv), _when(ep, ev)
            if start is None or end is None:
                problems.append(f"unreadable DTSTART/DTEND {sv} / {ev}")
            elif type(start) is type(end) and end < start:  # type: ignore[operator]
                problems.append(f"DTEND {ev} before DTSTART {sv}")
    if len(uids) != len(set(uids)):
        problems.append("UIDs repeat within the feed")
    return problems
