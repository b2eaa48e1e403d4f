"""Templates and conditions in rules: Jinja2's sandbox, never eval.

Admins write `{{ deal.TITLE }}` in action fields and `deal.OPPORTUNITY > 1000` in conditions.
Syntax is checked when the config loads, so a typo fails `app.py check`, not a live event.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Any, NamedTuple

from jinja2 import StrictUndefined, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import AfterValidator

from relay.errors import TransientError

# `finalize`: a missing value prints as nothing, not as "None" (which a CRM field would store as text).
_env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True,
                                     finalize=lambda value: "" if value is None else value)


def install_helpers(**helpers: Any) -> None:
    """Functions every template and condition may call (working_hours, working_days, ...)."""
    _env.globals.update(helpers)


class TemplateError(ValueError):
    """A template or condition could not be rendered (syntax, or a name it refers to is missing)."""


def _syntax(text: str, kind: str) -> str:
    try:
        if kind == "expression":
            _compile_expression(text)
        else:
            _compile_template(text)
    except TemplateSyntaxError as exc:
        raise ValueError(f"{kind} syntax error: {exc.message}") from None
    return text


@lru_cache(maxsize=4096)
def _compile_template(text: str) -> Any:
    return _env.from_string(text)


@lru_cache(maxsize=4096)
def _compile_expression(text: str) -> Any:
    return _env.compile_expression(text, undefined_to_none=False)


class _Path(NamedTuple):
    keys: tuple[str, ...]
    default: str | None


_PLAIN = re.compile(r"^\{\{\s*([A-Za-z]\w*(?:\.[A-Za-z]\w*)*)\s*(?:\|\s*default\(\s*'([^'\\]*)'\s*\)\s*)?\}\}$")
_UNSURE, _ABSENT = object(), object()


@lru_cache(maxsize=4096)
def _plain_path(text: str) -> _Path | None:
    """`{{ payload.id }}` or `{{ payload.id | default('x') }}`: a path Python can follow without Jinja."""
    match = _PLAIN.match(text)
    if not match or any(hasattr(dict, key) for key in match.group(1).split(".")):
        return None  # `payload.items` is a method to Jinja: leave such names to it
    return _Path(tuple(match.group(1).split(".")), match.group(2))


def _follow(context: dict[str, Any], path: _Path) -> Any:
    value: Any = context
    last = len(path.keys) - 1
    for i, key in enumerate(path.keys):
        if type(value) is not dict:
            return _UNSURE
        value = value.get(key, _ABSENT)
        if value is _ABSENT:
            # Under StrictUndefined only the last name may be missing for `default` to apply.
            return _ABSENT if i == last and path.default is not None else _UNSURE
    return value


def render(text: str, context: dict[str, Any]) -> str:
    """Render a template string; plain strings without `{` come back untouched and cheaply."""
    if "{" not in text:
        return text
    path = _plain_path(text)
    if path is not None:
        # The intake renders a source's kind/entity/key templates on every request: a plain path to
        # a string or number is read directly, giving what Jinja would. Anything else goes to Jinja.
        value = _follow(context, path)
        if value is _ABSENT:
            return path.default or ""
        if type(value) in (str, int, float):
            return str(value)
    try:
        return str(_compile_template(text).render(**context))
    except TransientError:
        raise  # a helper's outside call failed for now (stage names read from the portal): retry, not a template bug
    except Exception as exc:  # jinja raises many types; the admin needs one clear message
        raise TemplateError(f"template {text!r}: {exc}") from None


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    """Evaluate a condition expression (`deal.STAGE_ID == 'C1:NEW'`) in the sandbox."""
    try:
        return _compile_expression(expression)(**context)
    except TransientError:
        raise
    except Exception as exc:
        raise TemplateError(f"condition {expression!r}: {exc}") from None


def render_value(value: Any, context: dict[str, Any]) -> Any:
    """Render every string inside nested dicts/lists, leaving other values as they are."""
    if isinstance(value, str):
        return render(value, context)
    if isinstance(value, dict):
        return {k: render_value(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, context) for v in value]
    return value


TemplateStr = Annotated[str, AfterValidator(lambda s: _syntax(s, "template"))]
Expression = Annotated[str, AfterValidator(lambda s: _syntax(s, "expression"))]
