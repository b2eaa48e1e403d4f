"""Run a report definition over the store: filter rows, group them, aggregate, sort; CSV or JSON out."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from relay.reports import sources
from relay.reports.definitions import ReportDef, parse_aggregate
from relay.reports.tree import Tree, number
from relay.store import Store
from relay.templating import TemplateError, evaluate

MAX_PROBLEMS = 20  # enough to see what is wrong, not a copy of the data


class ReportParamError(ValueError):
    """A parameter the report does not have (the caller says which ones it has)."""


@dataclass
class Result:
    report: str
    params: dict[str, str]
    columns: list[str]
    rows: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)
    skipped: int = 0

    def as_json(self) -> str:
        return json.dumps({"report": self.report, "params": self.params, "columns": self.columns, "rows": self.rows,
                           "skipped_rows": self.skipped, "problems": self.problems}, ensure_ascii=False, indent=1)

    def as_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(["; ".join(str(v) for v in value) if isinstance(value, list) else "" if value is None else value
                             for value in (row[c] for c in self.columns)])
        return out.getvalue()


def resolve_params(report: ReportDef, given: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(given) - set(report.params))
    if unknown:
        known = ", ".join(sorted(report.params)) or "none"
        raise ReportParamError(f"report {report.name!r} has no parameter {', '.join(unknown)} (it has: {known})")
    return {**report.params, **given}


def _plain(value: Any) -> Any:
    """Something CSV and JSON both show as is: numbers stay numbers (whole ones without .0), dicts become ids."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return value.get("ID") or value.get("id") or json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _aggregate(function: str, values: list[Any]) -> Any:
    present = [v for v in values if v not in (None, "")]
    if function == "count":
        return len(values)
    if function == "count_distinct":
        return len({json.dumps(v, sort_keys=True, default=str) for v in present})
    if function == "list":
        return [_plain(v) for v in present]
    numbers = [n for n in (number(v) for v in present) if n is not None]
    if function == "sum":
        return _plain(round(sum(numbers), 2))
    if function == "avg":
        return _plain(round(sum(numbers) / len(numbers), 2)) if numbers else None
    pool: list[Any] = numbers if numbers and len(numbers) == len(present) else [str(v) for v in present]
    if not pool:
        return None
    return _plain(min(pool) if function == "min" else max(pool))


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None or value == "":
        return (0, "")
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value))


def run_report(store: Store, report: ReportDef, given: dict[str, str] | None = None) -> Result:
    params = resolve_params(report, given or {})
    provided = sources.find(store, report.source)  # a connector's rows (relay/reports/sources.py), e.g. planfix:time
    if provided is None and not sources.is_builtin(report.source):
        raise ReportParamError(f"report {report.name!r}: no configured connector provides the source {report.source!r}")
    tree = Tree(store, report.parent_link_field, report.head_field) if provided is None else None
    result = Result(report.name, params, report.output_columns(), [])
    aggregates = {name: parse_aggregate(text) for name, text in report.aggregates.items()}
    groups: dict[tuple[Any, ...], list[list[Any]]] = {}
    keys: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in provided.rows(params) if provided else tree.rows(report.source):  # type: ignore[union-attr]
        context = provided.context(row, params) if provided else tree.context(report.source, row, params)  # type: ignore[union-attr]
        try:
            if not all(evaluate(condition, context) for condition in report.where):
                continue
            if report.columns:
                result.rows.append({name: _plain(evaluate(e, context)) for name, e in report.columns.items()})
                continue
            group = {name: _plain(evaluate(e, context)) for name, e in report.group_by.items()}
            values = [evaluate(inner, context) if inner else None for _, inner in aggregates.values()]
        except TemplateError as exc:
            result.skipped += 1
            if len(result.problems) < MAX_PROBLEMS:
                result.problems.append(f"{report.source} {row.get('ID') or row.get('id')}: {exc}")
            continue
        key = tuple(json.dumps(v, sort_keys=True, default=str) for v in group.values())
        keys.setdefault(key, group)
        groups.setdefault(key, []).append(values)
    for key, rows in groups.items():
        line = dict(keys[key])
        for index, (name, (function, _)) in enumerate(aggregates.items()):
            line[name] = _aggregate(function, [r[index] for r in rows])
        result.rows.append(line)
    order = report.order_by or (list(report.group_by) if not report.columns else [])
    for column in reversed(order):
        name = column.lstrip("-")
        result.rows.sort(key=lambda r: _sort_key(r.get(name)), reverse=column.startswith("-"))
    return result
