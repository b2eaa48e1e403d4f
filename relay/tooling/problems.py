"""What the rule tooling reports and passes around: problems with a fix, references to outside names."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Where:
    """A place in a YAML file: the line an editor jumps to and the field path an admin reads."""

    file: str
    line: int | None
    field: str = ""

    def __str__(self) -> str:
        spot = f"{self.file}:{self.line}" if self.line else self.file
        return f"{spot}: {self.field}" if self.field else spot


@dataclass(frozen=True)
class LintProblem:
    severity: Severity
    where: Where
    message: str
    fix: str = ""

    def __str__(self) -> str:
        fix = f"; fix: {self.fix}" if self.fix else ""
        return f"{self.severity}: {self.where}: {self.message}{fix}"


RefKind = Literal["field", "stage", "pipeline"]


@dataclass(frozen=True)
class Ref:
    """A name of the outside system that a rule or mapping relies on (checked offline and live).

    `declares`: the config writes or links this field itself (a mapping target, a link field), so it
    counts as known offline. `pipeline`: for a stage, the pipeline it must belong to, when known.
    """

    connector: str
    kind: RefKind
    entity: str
    value: str
    where: Where
    declares: bool = False
    pipeline: str | None = None


@dataclass
class EntityCatalog:
    """What the connected system really has for one entity type (from a connector's describe_live)."""

    fields: set[str] = field(default_factory=set)
    pipelines: dict[str, list[str]] = field(default_factory=dict)  # pipeline id → its stage ids, in order


def has_errors(problems: list[LintProblem]) -> bool:
    return any(p.severity == "error" for p in problems)
