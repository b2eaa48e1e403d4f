"""What an action sees: the event, its rule, templates, mappings, connectors, and effect()."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from relay.effects import EffectOutcome
from relay.engine.model import Mapping, Rule
from relay.inbox import Claimed
from relay.templating import render_value

if TYPE_CHECKING:
    from relay.runtime import Runtime


@dataclass
class PlannedWrite:
    """In a dry run, effects are described instead of performed."""

    rule: str
    action: str
    key: str
    target: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class Halt:
    """Returned by an action to stop the event's remaining actions and rules (e.g. a failed gate)."""

    reason: str


@dataclass
class ActionContext:
    runtime: "Runtime"
    event: Claimed
    rule: Rule
    index: int
    action: str
    context: dict[str, Any]
    dry_run: bool = False
    plan: list[PlannedWrite] = field(default_factory=list)

    def key(self, suffix: str = "", scope: str = "event") -> str:
        """Deterministic idempotency key: rule + trigger + action position (+ suffix).

        The trigger is the event (`scope="event"`: once per event) or the entity the event is about
        (`scope="entity"`: once per entity and rule, ever — e.g. one child deal per parent).
        """
        trigger = f"{self.event.source}|{self.event.idem_key}" if scope == "event" else f"entity|{self.event.entity_key}"
        raw = f"{self.rule.id}|{trigger}|{self.index}|{suffix}"
        return raw if len(raw) <= 200 else f"{self.rule.id[:80]}|sha256:{hashlib.sha256(raw.encode()).hexdigest()}"

    def render(self, value: Any, **extra: Any) -> Any:
        return render_value(value, {**self.context, **extra} if extra else self.context)

    def mapping(self, name: str) -> Mapping:
        return self.runtime.config.mappings[name]

    def connector(self, name: str) -> Any:
        return self.runtime.connector(name)

    def trace(self, step: str, message: str, **detail: Any) -> None:
        if not self.dry_run:
            self.runtime.tracer.add(self.event.id, step, message, rule=self.rule.id, action=self.action, **detail)

    def effect(self, do: Callable[[], Any], find_existing: Callable[[], Any] | None = None, *, suffix: str = "",
               scope: str = "event", target: str | None = None, describe: dict[str, Any] | None = None,
               look_first: bool = False) -> EffectOutcome:
        """Run an outbound write at most once for this rule, trigger and action (see relay.effects)."""
        key = self.key(suffix, scope)
        if self.dry_run:
            self.plan.append(PlannedWrite(self.rule.id, self.action, key, target, describe or {}))
            return EffectOutcome(key, None, {}, "planned")
        return self.runtime.effects.run(key, self.action, do, find_existing, event_id=self.event.id, target=target, look_first=look_first)
