"""REST method registry: one module per method family registers its handlers here.

A handler takes a `Call` and returns a `Reply` (or a bare result). List methods put `total`/`next`
on the Reply; the transport lifts them to the top level of the answer, as the real server does.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..errors import ID_INVALID, crm_error

if TYPE_CHECKING:
    from ..portal import Portal


@dataclass
class Call:
    """One method invocation, direct or inside a batch."""

    portal: "Portal"
    method: str
    params: dict[str, Any]
    start: Any = None
    in_batch: bool = False


@dataclass
class Reply:
    result: Any
    total: int | None = None
    next: int | None = None


@dataclass
class MethodSpec:
    name: str
    func: Callable[[Call], Any]
    scope: str | None
    batch_allowed: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


METHODS: dict[str, MethodSpec] = {}


def rest(*names: str, scope: str | None = "crm", batch: bool = True) -> Callable:
    """Register a handler under one or more (lower-case) method names."""
    def decorate(func: Callable[[Call], Any]) -> Callable[[Call], Any]:
        for name in names:
            METHODS[name.lower()] = MethodSpec(name.lower(), func, scope, batch)
        return func
    return decorate


def param(params: dict[str, Any], name: str, default: Any = None) -> Any:
    """Old CRM methods accept `fields`, `FIELDS`, `Fields` or `arFields` (CCrmRestHelper::resolveArrayParam)."""
    for key in (name, name.upper(), name.capitalize(), "ar" + name.capitalize()):
        if key in params:
            return params[key]
    return default


def php_intval(value: Any) -> int:
    """PHP intval: leading integer of a string ("12abc" → 12), 0 when there is none."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return int(value)
    m = re.match(r"^\s*([+-]?\d+)", str(value) if value is not None else "")
    return int(m.group(1)) if m else 0


def entity_id(params: dict[str, Any], *names: str) -> int:
    """The `id`/`ID` parameter as a positive int, else the old-CRM "ID is not defined or invalid." error."""
    for name in names or ("id", "ID", "Id"):
        if name in params:
            value = php_intval(params[name])
            if value > 0:
                return value
            break
    raise crm_error(ID_INVALID)


def load_all() -> None:
    """Import every method family so that their @rest decorators run."""
    from . import batch, crm, items, misc, pipelines, tasks, userfields  # noqa: F401
