"""What plug-ins contribute: source types (intake), actions (effects), connectors (outside systems).

The engine looks things up here by name; it never imports a connector directly. A connector or a
plugin module registers itself at import time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from pydantic import BaseModel

if TYPE_CHECKING:
    from relay.actions.context import ActionContext
    from relay.intake.base import Source


@dataclass(frozen=True)
class SourceType:
    """`type:` of an entry under `sources:`; `build(name, settings, runtime)` makes the Source."""

    name: str
    settings: type[BaseModel]
    build: Callable[[str, BaseModel, Any], "Source"]


@dataclass(frozen=True)
class ActionSpec:
    """An action a rule can name in `do:`; `run(ctx, params)` performs it through ctx.effect()."""

    name: str
    params: type[BaseModel]
    run: Callable[["ActionContext", Any], Any]
    doc: str = ""


@dataclass(frozen=True)
class ConnectorSpec:
    """An outside system under `connectors:`; `build(settings, runtime)` returns the live connector."""

    name: str
    settings: type[BaseModel]
    build: Callable[[BaseModel, Any], Any]


@dataclass
class Registry:
    source_types: dict[str, SourceType] = field(default_factory=dict)
    actions: dict[str, ActionSpec] = field(default_factory=dict)
    connectors: dict[str, ConnectorSpec] = field(default_factory=dict)


REGISTRY = Registry()


def register_source_type(name: str, settings: type[BaseModel], build: Callable[..., Any]) -> None:
    REGISTRY.source_types[name] = SourceType(name, settings, build)


def register_connector(name: str, settings: type[BaseModel], build: Callable[..., Any]) -> None:
    REGISTRY.connectors[name] = ConnectorSpec(name, settings, build)


def action(name: str, params: type[BaseModel]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: `@action("webhook", WebhookParams)` makes a function usable in rules."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        REGISTRY.actions[name] = ActionSpec(name, params, fn, (fn.__doc__ or "").strip())
        return fn

    return wrap


def load_builtins() -> None:
    """Import the modules that register the built-in source types, actions and connectors."""
    import relay.actions.builtin  # noqa: F401
    import relay.intake.webhook  # noqa: F401
    import relay.review_cli  # noqa: F401
    import relay.payments.cli  # noqa: F401
    import connectors  # noqa: F401
