"""What a connector tells the lint about its world, without any wire format reaching the core.

A connector registers a `Vocabulary` (see `register_vocabulary`): the event kinds its source sends,
the names rules of that source may use in templates, which of those names are entities (so
`deal.UF_CRM_X` is a deal field), what its actions refer to (fields, stages, pipelines, mappings),
and its own offline checks of those references. Rules of sources without a vocabulary are still
linted for syntax, sources and timers; only what needs the connector's knowledge is skipped.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from relay.templating import _env
from relay.tooling.problems import LintProblem, Ref, RefKind, Severity
from relay.tooling.templates import Analysis

BASE_NAMES = {"event", "payload"}
# Jinja's own globals and the helpers every Runtime installs (relay.runtime: working_hours/days).
HELPERS = set(_env.globals) | {"working_hours", "working_days"}
# Built-in actions and the names they add when rendering their own parameters (http_post's lookup_url).
BUILTIN_ACTIONS: dict[str, set[str]] = {"http_post": {"effect_key"}, "start_timer": set(), "cancel_timer": set(), "note": set()}
# Actions that put names into the event's context for the actions after them (`planfix_sync_task` → planfix_task).
ADDS_TO_CONTEXT: dict[str, set[str]] = {}


def adds_to_context(action: str, *names: str) -> None:
    """Declare that `action` gives the actions after it in a rule these names (for the lint's scope)."""
    ADDS_TO_CONTEXT.setdefault(action, set()).update(names)


@dataclass
class Scope:
    """What templates in one place may read."""

    names: set[str] | None                                  # None: not known, so unknown names are not reported
    entities: dict[str, str] = field(default_factory=dict)  # name path → entity type ("deal", "change.old" → "deal")
    entity: str | None = None                               # the entity the event is about
    kind: str = "*"                                         # the rule's kind pattern

    def extended(self, names: set[str] | None, entities: dict[str, str]) -> "Scope":
        known = None if self.names is None or names is None else self.names | names
        return Scope(known, {**self.entities, **entities}, self.entity, self.kind)


@dataclass(frozen=True)
class Found:
    """A reference before it has a place in a file (the core adds file and line)."""

    kind: RefKind
    entity: str
    value: str
    path: tuple[str | int, ...] = ()   # inside the action's parameters, for ParamRefs
    declares: bool = False
    pipeline: str | None = None


@dataclass
class MappingUse:
    """How an action uses a mapping: where its `fields` go, what its `stages` translate, what its templates see."""

    name: str
    scope: Scope
    fields_entity: str | None = None
    stages_from: tuple[str, str | None] | None = None   # (entity, pipeline) of the `stages` keys
    stages_to: tuple[str, str | None] | None = None     # (entity, pipeline) of the `stages` values


@dataclass
class ActionUse:
    connector: str = ""                                          # whose vocabulary described the action
    extra_names: set[str] | None = field(default_factory=set)   # None: the action's template names are not known
    entities: dict[str, str] = field(default_factory=dict)
    refs: list[Found] = field(default_factory=list)
    mappings: list[MappingUse] = field(default_factory=list)


class Vocabulary(Protocol):
    connector: str

    def kinds(self) -> list[str]:
        """Every event kind the connector's source produces (rules whose kind matches none never run)."""

    def scope(self, kind_pattern: str) -> Scope:
        """What a rule `when: {source: <connector>, kind: <kind_pattern>}` may read."""

    def action(self, name: str, params: Any, scope: Scope) -> ActionUse | None:
        """What one of the connector's actions refers to; None if the action is not the connector's."""

    def refs(self, analysis: Analysis, scope: Scope) -> list[Found]:
        """Fields, stages and pipelines a template or condition refers to."""

    def condition(self, text: str, analysis: Analysis, scope: Scope) -> list[tuple[Severity, str, str]]:
        """(severity, what, fix) for a rule condition that can never hold or always fails."""

    def check(self, refs: list[Ref]) -> list[LintProblem]:
        """Offline problems with the references (no portal needed)."""


VOCABULARIES: dict[str, Vocabulary] = {}


def register_vocabulary(vocabulary: Vocabulary) -> None:
    VOCABULARIES[vocabulary.connector] = vocabulary


def action_use(name: str, params: Any, scope: Scope) -> ActionUse | None:
    """Ask each vocabulary about an action; built-ins are known here; None when nobody knows it."""
    if name in BUILTIN_ACTIONS:
        return ActionUse(extra_names=set(BUILTIN_ACTIONS[name]))
    for vocabulary in VOCABULARIES.values():
        use = vocabulary.action(name, params, scope)
        if use is not None:
            use.connector = vocabulary.connector
            return use
    return None
