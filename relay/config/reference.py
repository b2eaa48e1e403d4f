"""Generate docs/config-reference.md from the pydantic models, so the reference cannot drift."""
from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from relay.config.models import RelayConfig
from relay.registry import REGISTRY, load_builtins


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin in (list, dict):
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in typing.get_args(annotation))}]"
    return getattr(annotation, "__name__", str(annotation)).replace("NoneType", "null")


def _default(info: Any) -> str:
    if info.default is not PydanticUndefined:
        value = info.default
        if isinstance(value, BaseModel):
            return "(section)"
        return f"`{value!r}`" if value is not None else "`null`"
    if info.default_factory is not None:
        return f"`{info.default_factory()!r}`"
    return "**required**"


def _table(model: type[BaseModel], prefix: str = "") -> list[str]:
    rows: list[str] = []
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, info in model.model_fields.items():
        if info.exclude:
            continue
        key = f"{prefix}{info.alias or name}"
        annotation = info.annotation
        if typing.get_origin(annotation) in (typing.Union, types.UnionType):  # an optional section: `X | None`
            models = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = models[0] if len(models) == 1 and isinstance(models[0], type) and issubclass(models[0], BaseModel) else annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            nested.append((key, annotation))
            continue
        rows.append(f"| `{key}` | {_type_name(annotation)} | {_default(info)} | {(info.description or '').replace('|', '/')} |")
    lines = ["| key | type | default | meaning |", "| --- | --- | --- | --- |", *rows] if rows else []
    for key, sub in nested:
        lines += ["", f"### `{key}`", "", (sub.__doc__ or "").strip(), "", *_table(sub, key + ".")]
    return lines


def _shipped(module: str) -> bool:
    """Only what ships with the relay; admins' plugin modules document themselves."""
    return module.split(".")[0] in ("relay", "connectors")


def render_reference() -> str:
    load_builtins()
    out = ["# Configuration reference", "",
           "Generated from the code (`python app.py docs`); do not edit by hand.",
           "Values may use `${VAR}` or `${VAR:-default}` to read the environment; `$$` is a literal `$`.",
           "Unknown keys are errors.", "", "## config.yaml", "", *_table(RelayConfig)]
    out += ["", "## Source types (`sources.<name>.type`)"]
    for name, spec in sorted((n, t) for n, t in REGISTRY.source_types.items() if _shipped(t.settings.__module__)):
        out += ["", f"### `{name}`", "", (spec.settings.__doc__ or "").strip(), "", *_table(spec.settings)]
    out += ["", "## Connectors (`connectors.<name>`)"]
    for name, spec in sorted((n, c) for n, c in REGISTRY.connectors.items() if _shipped(c.settings.__module__)):
        out += ["", f"### `{name}`", "", (spec.settings.__doc__ or "").strip(), "", *_table(spec.settings)]
    if not REGISTRY.connectors:
        out += ["", "No connector is installed yet."]
    out += ["", "## Actions (`do:` items in rule files)"]
    for name, spec in sorted((n, a) for n, a in REGISTRY.actions.items() if _shipped(a.run.__module__)):
        out += ["", f"### `{name}`", "", spec.doc, "", *_table(spec.params)]
    text = "\n".join(out)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text + "\n"
