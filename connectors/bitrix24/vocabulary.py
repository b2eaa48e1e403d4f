"""What the lint knows about Bitrix24 without asking a portal: event kinds, the names rules of the
`bitrix24` source see, what the linked-deal actions refer to, standard field codes, stage prefixes.

Stage ids carry their pipeline: `NEW` is in the default deal pipeline 0, `C1:NEW` in pipeline 1,
`DT1036_10:NEW` in pipeline 10 of smart process 1036. So a stage can be checked against the pipeline
it is used with even offline; whether it exists at all is `check --live`'s job (describe.py).
"""
from __future__ import annotations

import difflib
import fnmatch
import re
from typing import Any

from relay.tooling.problems import LintProblem, Ref, Severity
from relay.tooling.templates import Analysis
from relay.tooling.vocabulary import BASE_NAMES, ActionUse, Found, MappingUse, Scope

ENTITIES = ("deal", "company", "contact", "lead", "item", "task")
KINDS = [f"{e}.{a}" for e in ENTITIES for a in ("added", "updated", "deleted")]
_COMMON = {"ID", "TITLE", "ASSIGNED_BY_ID", "CREATED_BY_ID", "MODIFY_BY_ID", "DATE_CREATE", "DATE_MODIFY", "OPENED",
           "COMMENTS", "CURRENCY_ID", "OPPORTUNITY", "COMPANY_ID", "CONTACT_ID", "SOURCE_ID", "SOURCE_DESCRIPTION",
           "ORIGINATOR_ID", "ORIGIN_ID", "LAST_ACTIVITY_TIME", "LAST_ACTIVITY_BY", "UTM_SOURCE", "UTM_MEDIUM",
           "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM", "PHONE", "EMAIL", "WEB", "IM", "ADDRESS"}
STANDARD_FIELDS: dict[str, set[str]] = {
    "deal": _COMMON | {"TYPE_ID", "CATEGORY_ID", "STAGE_ID", "STAGE_SEMANTIC_ID", "IS_NEW", "IS_RECURRING", "IS_RETURN_CUSTOMER",
                       "IS_REPEATED_APPROACH", "PROBABILITY", "IS_MANUAL_OPPORTUNITY", "TAX_VALUE", "CONTACT_IDS", "QUOTE_ID",
                       "LEAD_ID", "BEGINDATE", "CLOSEDATE", "CLOSED", "MOVED_BY_ID", "MOVED_TIME", "ADDITIONAL_INFO", "LOCATION_ID"},
    "company": _COMMON | {"COMPANY_TYPE", "INDUSTRY", "EMPLOYEES", "REVENUE", "IS_MY_COMPANY", "BANKING_DETAILS", "LOGO",
                          "REG_ADDRESS", "LEAD_ID"},
    "contact": _COMMON | {"NAME", "SECOND_NAME", "LAST_NAME", "HONORIFIC", "POST", "BIRTHDATE", "TYPE_ID", "COMPANY_IDS",
                          "LEAD_ID", "EXPORT", "PHOTO"},
    "lead": _COMMON | {"NAME", "SECOND_NAME", "LAST_NAME", "POST", "STATUS_ID", "STATUS_SEMANTIC_ID", "STATUS_DESCRIPTION",
                       "COMPANY_TITLE", "IS_RETURN_CUSTOMER", "BIRTHDATE", "MOVED_BY_ID", "MOVED_TIME", "CONTACT_IDS"},
    "item": {"id", "title", "xmlId", "stageId", "previousStageId", "categoryId", "opportunity", "isManualOpportunity",
             "taxValue", "currencyId", "assignedById", "createdBy", "updatedBy", "movedBy", "createdTime", "updatedTime",
             "movedTime", "companyId", "contactId", "contactIds", "mycompanyId", "begindate", "closedate", "opened",
             "observers", "sourceId", "sourceDescription", "lastActivityTime", "lastActivityBy", "entityTypeId", "webformId"},
}
STAGE_FIELD = {"deal": "STAGE_ID", "item": "stageId", "lead": "STATUS_ID"}
PIPELINE_FIELD = {"deal": "CATEGORY_ID", "item": "categoryId"}
CONTEXT_NAMES = {"entity_type", "id", "bitrix24", "deleted", "change", "entity"}


def base_type(entity: str) -> str:
    return entity.split(":", 1)[0]


def entity_of(kind_pattern: str) -> str | None:
    """The one entity type a kind pattern can match (`deal.*` → deal), or None (`*`)."""
    matched = {k.split(".", 1)[0] for k in KINDS if fnmatch.fnmatchcase(k, kind_pattern)}
    return matched.pop() if len(matched) == 1 else None


def stage_pipeline(entity: str, stage: str) -> str | None:
    """The pipeline a stage id names by its prefix (`C1:NEW` → "1", `NEW` → "0"); None if it cannot tell."""
    if base_type(entity) == "deal":
        m = re.match(r"^C(\d+):", stage)
        return m.group(1) if m else ("0" if ":" not in stage else None)
    if base_type(entity) == "item" and ":" in entity:
        m = re.match(rf"^DT{re.escape(entity.split(':')[1])}_(\d+):", stage)
        return m.group(1) if m else None
    return None


class Bitrix24Vocabulary:
    connector = "bitrix24"

    def kinds(self) -> list[str]:
        return list(KINDS)

    def scope(self, kind_pattern: str) -> Scope:
        entity = entity_of(kind_pattern)
        if entity is None:
            return Scope(BASE_NAMES | CONTEXT_NAMES | set(ENTITIES), kind=kind_pattern)
        roots = {entity: entity, "entity": entity, "change.old": entity, "change.new": entity}
        return Scope(BASE_NAMES | CONTEXT_NAMES | {entity}, roots, entity, kind_pattern)

    def action(self, name: str, params: Any, scope: Scope) -> ActionUse | None:
        own = scope.entity or "deal"
        if name == "create_child":
            target = f"item:{params.entity_type_id}" if params.entity_type_id is not None else "deal"
            pipeline = None if params.category_id is None else str(params.category_id)
            refs = [Found("field", target, params.parent_link_field, ("parent_link_field",), declares=True)]
            if pipeline is not None:
                refs.append(Found("pipeline", target, pipeline, ("category_id",)))
            if params.stage_id:
                refs.append(Found("stage", target, params.stage_id, ("stage_id",), pipeline=pipeline))
            if params.child_link_field:
                refs.append(Found("field", own, params.child_link_field, ("child_link_field",), declares=True))
            mapping = MappingUse(params.mapping, scope.extended({"parent"}, {"parent": own}), fields_entity=target)
            return ActionUse(refs=refs, mappings=[mapping])
        if name == "update_parent":
            refs = [Found("field", own, params.parent_link_field, ("parent_link_field",), declares=True)]
            if params.children_link_field:
                refs.append(Found("field", "deal", params.children_link_field, ("children_link_field",), declares=True))
            names = {"child", "parent", "children"}
            mapping = MappingUse(params.mapping, scope.extended(names, {"child": own, "parent": "deal", "children[]": "deal"}),
                                 fields_entity="deal", stages_from=(own, None), stages_to=("deal", None))
            return ActionUse(refs=refs, mappings=[mapping])
        if name == "require_fields":
            refs = [Found("field", own, code, ("fields", code)) for code in params.fields]
            if params.back_to != "previous":
                refs.append(Found("stage", own, params.back_to, ("back_to",)))
            return ActionUse(extra_names={"missing", "stage_name"}, refs=refs)
        if name == "update_entity":
            return ActionUse(refs=[Found("field", params.entity, code, ("fields", code), declares=True) for code in params.fields])
        return None

    def refs(self, analysis: Analysis, scope: Scope) -> list[Found]:
        out: list[Found] = []
        for access in analysis.accesses:
            entity = scope.entities.get(access.path)
            if entity:
                out.append(Found("field", entity, access.attr))
        for call in analysis.calls:
            head, _, method = call.path.rpartition(".")
            if head != "change" or method not in ("entered", "left", "changed") or not call.args or not isinstance(call.args[0], str):
                continue
            entity = scope.entity
            if entity:
                out.append(Found("field", entity, call.args[0]))
                out.extend(self._values(entity, call.args[0], call.args[1:2]))
        for compared in analysis.compared:
            entity = scope.entities.get(compared.path)
            if entity:
                out.extend(self._values(entity, compared.attr, compared.values))
        return out

    def _values(self, entity: str, field: str, values: tuple[Any, ...]) -> list[Found]:
        kind = "stage" if field == STAGE_FIELD.get(base_type(entity)) else "pipeline" if field == PIPELINE_FIELD.get(base_type(entity)) else None
        return [Found(kind, entity, str(v)) for v in values if kind and v is not None and str(v) != ""]  # type: ignore[arg-type]

    def condition(self, text: str, analysis: Analysis, scope: Scope) -> list[tuple[Severity, str, str]]:
        out: list[tuple[Severity, str, str]] = []
        entity = scope.entity
        if analysis.conjunction and entity == "deal":
            found = self.refs(analysis, scope)
            allowed = {f.value for f in found if f.kind == "pipeline"}
            for f in found:
                pipeline = stage_pipeline("deal", f.value) if f.kind == "stage" else None
                if allowed and pipeline is not None and pipeline not in allowed:
                    out.append(("warning", f"can never match: it asks for CATEGORY_ID in {sorted(allowed)}, but stage {f.value} "
                                f"is in pipeline {pipeline}", "correct the condition or the stage/pipeline ids"))
                    break
        return out

    def check(self, refs: list[Ref]) -> list[LintProblem]:
        return _check_fields(refs) + _check_stages(refs)


def _similar(value: str, known: set[str]) -> str:
    close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.75)
    return f"did you mean {close[0]}? " if close else ""


def _is_user_field(entity: str, code: str) -> bool:
    return code.startswith("UF_") if base_type(entity) != "item" else code.startswith(("ufCrm", "parentId"))


def _check_fields(refs: list[Ref]) -> list[LintProblem]:
    declared: dict[str, set[str]] = {}
    for ref in refs:
        if ref.kind == "field" and ref.declares:
            declared.setdefault(base_type(ref.entity), set()).add(ref.value)
    problems = []
    for ref in refs:
        kind = base_type(ref.entity)
        standard = STANDARD_FIELDS.get(kind)
        if ref.kind != "field" or standard is None or ref.value in standard:
            continue
        if ref.declares and not _is_user_field(ref.entity, ref.value):
            problems.append(LintProblem("warning", ref.where, f"{ref.value} is not a standard {kind} field, nor a user field (UF_CRM_…)",
                                        _similar(ref.value, standard) + "correct the code; `python app.py check --live` asks the portal"))
        elif not ref.declares and ref.value not in declared.get(kind, set()):
            known = standard | declared.get(kind, set())
            problems.append(LintProblem("warning", ref.where, f"{kind} field {ref.value} is read here, but no mapping or action declares it "
                                        f"and it is not a standard {kind} field",
                                        _similar(ref.value, known) + "correct the code, or check it with `python app.py check --live`"))
    return problems


def _check_stages(refs: list[Ref]) -> list[LintProblem]:
    named = {"0"} | {r.value for r in refs if r.kind == "pipeline" and r.entity == "deal"}
    problems = []
    for ref in refs:
        if ref.kind != "stage":
            continue
        pipeline = stage_pipeline(ref.entity, ref.value)
        if base_type(ref.entity) == "item" and ":" in ref.entity and pipeline is None:
            problems.append(LintProblem("error", ref.where, f"stage {ref.value} is not a stage of smart process {ref.entity.split(':')[1]}",
                                        f"its stages look like DT{ref.entity.split(':')[1]}_<pipeline>:<stage>"))
        elif ref.pipeline is not None and pipeline is not None and pipeline != ref.pipeline:
            problems.append(LintProblem("error", ref.where, f"stage {ref.value} belongs to pipeline {pipeline}, but it is used with pipeline {ref.pipeline}",
                                        "use a stage of the same pipeline" + (f" (C{ref.pipeline}:…)" if ref.entity == "deal" and ref.pipeline != "0" else "")))
        elif ref.entity == "deal" and pipeline is not None and pipeline not in named:
            problems.append(LintProblem("warning", ref.where, f"stage {ref.value} is in deal pipeline {pipeline}, which no rule or mapping "
                                        f"works with (pipelines named: {', '.join(sorted(named))})",
                                        "correct the stage's C<pipeline>: prefix, or name the pipeline (category_id, CATEGORY_ID)"))
    return problems
