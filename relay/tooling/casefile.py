"""Rule test files (`rules/x_test.yaml` beside `rules/x.yaml`) as admins write them.

```yaml
objects:                     # what the connected systems hold, for every case (per connector)
  bitrix24: {deal: [{ID: "2", TITLE: Монтаж}], pipelines: {"0": {NEW: Новая}}}
tests:
  - name: a sales deal entering Evaluate gets a Logistics child
    event: {source: bitrix24, kind: deal.updated}
    before: {ID: "1", CATEGORY_ID: "0", STAGE_ID: NEW}      # the relay's last snapshot (omit: never seen)
    after: {STAGE_ID: UC_EVALUATE}                          # what the portal shows now, over `before`
    expect:
      - {action: create_child, rule: logistics-estimate, fields: {CATEGORY_ID: 1}}
```
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from relay.config.errors import ConfigProblem
from relay.config.loader import validation_problems
from relay.config.yamlfile import YamlDoc, read_yaml


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventSpec(Strict):
    source: str = Field(description="the source the event arrives from (bitrix24, a webhook source, timer, ...)")
    kind: str = Field(description="the event kind, e.g. deal.updated")
    payload: dict[str, Any] = Field(default_factory=dict, description="the event payload (with before/after: added to the one the connector builds)")
    entity_key: str = Field("", description="events of one entity share it; default: from the connector, or one per case")


class LinkSpec(Strict):
    kind: str
    key: str
    value: str
    data: dict[str, Any] | None = None


class TimerSpec(Strict):
    kind: str
    cancel_key: str | None = None
    entity_key: str = ""
    payload: dict[str, Any] = Field(default_factory=dict)


class Case(Strict):
    name: str = Field(min_length=1)
    event: EventSpec
    before: dict[str, Any] | None = Field(None, description="the entity as the relay last saw it; omitted: a first sight")
    after: dict[str, Any] | None = Field(None, description="the entity as the system shows it now (merged over `before`)")
    objects: dict[str, dict[str, Any]] = Field(default_factory=dict, description="per connector, added to the file's objects")
    links: list[LinkSpec] = Field(default_factory=list, description="durable links the store holds before the event")
    timers: list[TimerSpec] = Field(default_factory=list, description="pending timers the store holds before the event")
    expect: list[dict[str, Any]] | None = Field(None, description="planned actions in order: `action`, optional `rule`, and a subset of what it would write")
    expect_error: str | None = Field(None, description="instead of `expect`: the event fails with a message containing this")

    @model_validator(mode="after")
    def _one_expectation(self) -> "Case":
        if (self.expect is None) == (self.expect_error is None):
            raise ValueError("give exactly one of `expect` (a list; [] for nothing) or `expect_error`")
        for item in self.expect or []:
            if not isinstance(item.get("action"), str):
                raise ValueError("every `expect` item needs `action: <name>`")
        return self


class TestFile(Strict):
    objects: dict[str, dict[str, Any]] = Field(default_factory=dict)
    tests: list[Case] = Field(min_length=1)


def load_test_file(path: Path, display: str) -> tuple[TestFile | None, YamlDoc, list[ConfigProblem]]:
    doc, problems = read_yaml(path, display=display)
    if problems or doc.data is None:
        return None, doc, problems
    try:
        return TestFile.model_validate(doc.data), doc, []
    except ValidationError as exc:
        return None, doc, validation_problems(exc, doc, (), TestFile)


def merged_objects(shared: dict[str, dict[str, Any]], own: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """File objects plus the case's: lists are joined (later records of one id win), mappings merged."""
    out: dict[str, dict[str, Any]] = {}
    for connector in set(shared) | set(own):
        merged: dict[str, Any] = {}
        for source in (shared.get(connector) or {}, own.get(connector) or {}):
            for key, value in source.items():
                if isinstance(value, list) and isinstance(merged.get(key), list):
                    merged[key] = merged[key] + value
                elif isinstance(value, dict) and isinstance(merged.get(key), dict):
                    merged[key] = {**merged[key], **value}
                else:
                    merged[key] = value
        out[connector] = merged
    return out
