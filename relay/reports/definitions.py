"""Report definitions: YAML files (`reports/*.yaml`) naming a source entity, filters, groups, aggregates.

```yaml
reports:
  late-children-by-contractor:
    source: deal                      # deal, company, or item:<entityTypeId>
    params: {sold_from: "2026-05-01"} # defaults; ?sold_from=... or --param sold_from=... override them
    where: ["parent and parent.STAGE_ID == 'WON'"]
    group_by: {contractor: "company(row.UF_CRM_CONTRACTOR).TITLE"}
    aggregates: {late: count, days_late: "sum(days(row.UF_CRM_PLANNED_DEADLINE, row.UF_CRM_ACTUAL_DONE))"}
```
Loading checks every expression's syntax and reports each problem with its file and line.
"""
from __future__ import annotations

import re
from pathlib import Path

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from relay.config.errors import ConfigError, ConfigProblem
from relay.config.yamlfile import read_yaml
from relay.templating import Expression

FUNCTIONS = ("count", "count_distinct", "sum", "avg", "min", "max", "list")
_AGGREGATE = re.compile(r"^\s*(" + "|".join(FUNCTIONS) + r")\s*(?:\((.*)\))?\s*$", re.DOTALL)
NAME = r"^[A-Za-z_][A-Za-z0-9_\-]*$"
_EXPRESSION: TypeAdapter[str] = TypeAdapter(Expression)


def parse_aggregate(text: str) -> tuple[str, str]:
    """`sum(row.OPPORTUNITY)` → ("sum", "row.OPPORTUNITY"); a bare `count` counts rows."""
    m = _AGGREGATE.match(text)
    if not m:
        raise ValueError(f"expected one of {', '.join(FUNCTIONS)} with an expression, e.g. sum(row.OPPORTUNITY)")
    function, inner = m.group(1), (m.group(2) or "").strip()
    if not inner and function != "count":
        raise ValueError(f"{function}() needs an expression, e.g. {function}(row.OPPORTUNITY)")
    if inner:
        _EXPRESSION.validate_python(inner)
    return function, inner


def _checked_aggregate(text: str) -> str:
    parse_aggregate(text)
    return text


Aggregate = Annotated[str, AfterValidator(_checked_aggregate)]


class ReportDef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    file: str = ""
    description: str = ""
    source: str = Field("deal", pattern=r"^(deal|company|contact|item:\d+|[a-z][a-z0-9_]*:[a-z][a-z0-9_]*)$",
                        description="entities the rows are: deal, company, contact, item:<entityTypeId>, or a connector's source such as planfix:time")
    parent_link_field: str = Field("UF_CRM_PARENT_DEAL", description="deal field pointing at the parent deal (the tree)")
    head_field: str = Field("UF_CRM_HEAD_COMPANY", description="company field pointing at the head company (holdings)")
    params: dict[str, str] = Field(default_factory=dict, description="parameters and their defaults, as `params.NAME` in expressions")
    where: list[Expression] = Field(default_factory=list, description="conditions a row must meet (all of them)")
    group_by: dict[str, Expression] = Field(default_factory=dict, description="column → expression; rows with the same values form one group")
    aggregates: dict[str, Aggregate] = Field(default_factory=dict, description="column → count | count_distinct(e) | sum(e) | avg(e) | min(e) | max(e) | list(e)")
    columns: dict[str, Expression] = Field(default_factory=dict, description="without group_by: column → expression, one line per row")
    order_by: list[str] = Field(default_factory=list, description="columns to sort by; `-name` for descending; default: the group columns")

    @field_validator("params", mode="before")
    @classmethod
    def _params_as_text(cls, value: object) -> object:
        return {str(k): "" if v is None else str(v) for k, v in value.items()} if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _shape(self) -> "ReportDef":
        if self.columns and (self.group_by or self.aggregates):
            raise ValueError("use either `columns` (one line per row) or `group_by`/`aggregates`, not both")
        if not (self.columns or self.group_by or self.aggregates):
            raise ValueError("say what to show: `columns`, or `group_by` and `aggregates`")
        names = self.output_columns()
        if len(names) != len(set(names)):
            raise ValueError(f"column names repeat: {names}")
        for column in self.order_by:
            if column.lstrip("-") not in names:
                raise ValueError(f"order_by: {column!r} is not a column (columns: {', '.join(names)})")
        for column in names:
            if not re.match(NAME, column):
                raise ValueError(f"column name {column!r}: letters, digits, _ and - only")
        return self

    def output_columns(self) -> list[str]:
        return list(self.columns) if self.columns else [*self.group_by, *self.aggregates]


class ReportsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reports: dict[str, dict] = Field(default_factory=dict)


def load_reports(base_dir: Path, patterns: list[str]) -> dict[str, ReportDef]:
    """Every report in the files matching `patterns` (relative to base_dir); raises ConfigError listing all problems."""
    from relay.config.loader import validation_problems  # the loader imports the registry, which imports connectors
    problems: list[ConfigProblem] = []
    found: dict[str, ReportDef] = {}
    files = sorted({p for pattern in patterns for p in base_dir.glob(pattern)})
    for path in files:
        doc, read_problems = read_yaml(path, display=str(path.relative_to(base_dir)) if path.is_relative_to(base_dir) else str(path))
        problems += read_problems
        if doc.data is None:
            continue
        try:
            parsed = ReportsFile.model_validate(doc.data)
        except Exception as exc:  # pydantic's ValidationError: located by path
            problems += validation_problems(exc, doc, (), ReportsFile)  # type: ignore[arg-type]
            continue
        for name, raw in parsed.reports.items():
            where = ("reports", name)
            if not re.match(NAME, name):
                problems.append(ConfigProblem(doc.file, doc.line_of(where), f"reports.{name}", "report names: letters, digits, _ and - only"))
                continue
            if name in found:
                problems.append(ConfigProblem(doc.file, doc.line_of(where), f"reports.{name}", f"report {name!r} is already defined in {found[name].file}"))
                continue
            try:
                found[name] = ReportDef.model_validate({**raw, "name": name, "file": doc.file})
            except Exception as exc:
                problems += validation_problems(exc, doc, where, ReportDef)  # type: ignore[arg-type]
    if problems:
        raise ConfigError(problems)
    return found
