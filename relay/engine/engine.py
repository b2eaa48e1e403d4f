"""Match an event's context against rules and run their actions in order."""
from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Any

from relay.actions.context import ActionContext, Halt, PlannedWrite
from relay.engine.model import Rule
from relay.errors import PermanentError
from relay.inbox import Claimed
from relay.registry import REGISTRY
from relay.templating import TemplateError, evaluate

if TYPE_CHECKING:
    from relay.runtime import Runtime


def base_context(event: Claimed) -> dict[str, Any]:
    """What every rule can read; connectors add the entity, its change and related objects."""
    return {
        "event": {"id": event.id, "source": event.source, "kind": event.kind, "entity_key": event.entity_key,
                  "received_at": event.received_at.isoformat()},
        "payload": event.payload,
    }


class Engine:
    def __init__(self, runtime: "Runtime", rules: list[Rule]) -> None:
        self.runtime = runtime
        self.rules = [r for r in rules if r.enabled]

    def matching(self, event: Claimed) -> list[Rule]:
        return [r for r in self.rules if r.when.source == event.source and fnmatch.fnmatchcase(event.kind, r.when.kind)]

    def handle(self, event: Claimed, dry_run: bool = False) -> list[PlannedWrite]:
        """Run every matching rule. Raises on failure: the worker decides between retry and dead letter."""
        plan: list[PlannedWrite] = []
        rules = self.matching(event)
        tracer = self.runtime.tracer
        if not rules:
            if not dry_run:
                tracer.add(event.id, "rules", f"no rule for {event.source}/{event.kind}")
            return plan
        context = self.runtime.prepare(event)
        if context is None:
            if not dry_run:
                tracer.add(event.id, "rules", "nothing changed that rules look at")
            return plan
        for rule in rules:
            if rule.when.if_:
                try:
                    passed = bool(evaluate(rule.when.if_, context))
                except TemplateError as exc:
                    raise PermanentError(f"rule {rule.id} ({rule.file}): {exc}") from None
                except Exception as exc:  # bool() of a missing name (StrictUndefined) fails only here
                    raise PermanentError(f"rule {rule.id} ({rule.file}): condition {rule.when.if_!r}: {exc}") from None
                if not passed:
                    if not dry_run:
                        tracer.add(event.id, "rule.skipped", f"rule {rule.id}: condition is false", rule=rule.id, condition=rule.when.if_)
                    continue
            if not dry_run:
                tracer.add(event.id, "rule.matched", f"rule {rule.id} matched", rule=rule.id, file=rule.file)
            for index, call in enumerate(rule.actions):
                ctx = ActionContext(self.runtime, event, rule, index, call.name, context, dry_run=dry_run, plan=plan)
                try:
                    outcome = REGISTRY.actions[call.name].run(ctx, call.params)
                except TemplateError as exc:
                    raise PermanentError(f"rule {rule.id}, action {call.name} ({rule.file}:{call.line}): {exc}") from None
                if isinstance(outcome, Halt):
                    if not dry_run:
                        tracer.add(event.id, "halt", f"rule {rule.id}: {outcome.reason}; later actions and rules skipped", rule=rule.id)
                    return plan
        return plan
