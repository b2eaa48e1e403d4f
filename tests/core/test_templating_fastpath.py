"""Plain-path templates are read without Jinja; the result must always equal Jinja's."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, strategies as st

from relay.templating import TemplateError, _compile_template, render

KEYS = st.sampled_from(["id", "type", "entity", "items", "get", "x1", "a_b"])
LEAVES = st.one_of(st.text(max_size=8), st.integers(), st.floats(allow_nan=False), st.none(), st.booleans(),
                   st.lists(st.integers(), max_size=2))
TREES = st.recursive(LEAVES, lambda inner: st.dictionaries(KEYS, inner, max_size=3), max_leaves=6)


def jinja(text: str, context: dict[str, Any]) -> str:
    try:
        return str(_compile_template(text).render(**context))
    except Exception as exc:
        return f"error: {type(exc).__name__}"


def ours(text: str, context: dict[str, Any]) -> str:
    try:
        return render(text, context)
    except TemplateError:
        return "error: UndefinedError"


@given(payload=st.dictionaries(KEYS, TREES, max_size=4), path=st.lists(KEYS, min_size=1, max_size=3),
       default=st.one_of(st.none(), st.sampled_from(["", "none", "x y"])))
def test_plain_paths_render_exactly_as_jinja_does(payload: dict[str, Any], path: list[str], default: str | None) -> None:
    text = "{{ payload." + ".".join(path) + (f" | default('{default}')" if default is not None else "") + " }}"
    assert ours(text, {"payload": payload}) == jinja(text, {"payload": payload})


@pytest.mark.parametrize("text, expected", [
    ("{{ payload.type }}", "deal.updated"),
    ("{{payload.n}}", "7"),
    ("{{ payload.missing | default('webhook') }}", "webhook"),
    ("{{ payload.nested.id | default('') }}", "42"),
    ("{{ payload.type | upper }}", "DEAL.UPDATED"),  # not plain: Jinja
])
def test_examples(text: str, expected: str) -> None:
    assert render(text, {"payload": {"type": "deal.updated", "n": 7, "nested": {"id": 42}}}) == expected


def test_a_missing_key_without_default_is_still_an_error() -> None:
    with pytest.raises(TemplateError, match="payload.nope|nope"):
        render("{{ payload.nope }}", {"payload": {}})
