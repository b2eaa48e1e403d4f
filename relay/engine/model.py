"""Rule and mapping files as admins write them."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from relay.templating import Expression, TemplateStr


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class When(Strict):
    source: str = Field(description="source name (a key under `sources:`, a connector, `timer`, or `review` for resolved review items)")
    kind: str = Field("*", description="event kind; shell-style wildcards allowed, e.g. `deal.*`")
    if_: Expression | None = Field(None, alias="if", description="condition over the event's context")


class ActionCall(BaseModel):
    """One validated `do:` item."""

    name: str
    params: Any
    line: int | None = None


class Rule(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$", description="stable id; part of every effect's idempotency key")
    description: str = ""
    enabled: bool = True
    when: When
    do: list[dict[str, Any]] = Field(min_length=1, description="actions, each `- action_name: {params}`")
    file: str = ""
    position: int = 0
    actions: list[ActionCall] = Field(default_factory=list, exclude=True)


class RulesFile(Strict):
    rules: list[dict[str, Any]] = Field(default_factory=list)


class Mapping(Strict):
    """Named translations between systems: fields, stages/statuses, values, message templates."""

    description: str = ""
    fields: dict[str, TemplateStr] = Field(default_factory=dict, description="target field → template over the source entity")
    stages: dict[str, str] = Field(default_factory=dict, description="source stage/status id → target stage/status id")
    values: dict[str, Any] = Field(default_factory=dict, description="named constants for templates")
    templates: dict[str, TemplateStr] = Field(default_factory=dict, description="message templates by name")
    file: str = ""


class MappingsFile(Strict):
    mappings: dict[str, dict[str, Any]] = Field(default_factory=dict)
