"""Compare the actions a rule test expects with the ones the rules planned, and show the difference.

An expected action is a subset: the keys it names must match, anything else the action would write
is ignored. Scalars compare by value, or by their text (`1` matches `"1"`: YAML and CRMs disagree on
quotes). On failure the diff shows the planned actions trimmed to the keys the test names, plus every
unexpected action in full, so the reader sees exactly what differs and nothing else.
"""
from __future__ import annotations

import difflib
from typing import Any

import yaml

from relay.actions.context import PlannedWrite


def planned(plan: list[PlannedWrite]) -> list[dict[str, Any]]:
    """A planned write as the test file spells it: the action, its rule, and what it would write."""
    return [{"action": p.action, "rule": p.rule, **p.detail} for p in plan]


def matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and matches(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(matches(e, a) for e, a in zip(expected, actual))
    if expected == actual:
        return True
    plain = (str, int, float)
    return isinstance(expected, plain) and isinstance(actual, plain) and not isinstance(expected, bool) and str(expected) == str(actual)


def _trimmed(expected: Any, actual: Any) -> Any:
    """`actual` cut to the shape of `expected`, so a diff shows only what the test talks about."""
    if matches(expected, actual):
        return expected
    if isinstance(expected, dict) and isinstance(actual, dict):
        return {k: _trimmed(v, actual[k]) for k, v in expected.items() if k in actual}
    if isinstance(expected, list) and isinstance(actual, list):
        return [_trimmed(e, a) for e, a in zip(expected, actual)] + actual[len(expected):]
    return actual


def _dump(value: Any) -> list[str]:
    text = yaml.safe_dump(value, allow_unicode=True, sort_keys=False, default_flow_style=False, width=110)
    return text.splitlines(keepends=True) if value else ["[]\n"]


def diff(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> str:
    """A unified diff of expected vs planned actions (empty when they match)."""
    if matches(expected, actual):
        return ""
    shown = [_trimmed(e, a) for e, a in zip(expected, actual)] + actual[len(expected):]
    return "".join(difflib.unified_diff(_dump(expected), _dump(shown), "expected", "actual (planned)"))
