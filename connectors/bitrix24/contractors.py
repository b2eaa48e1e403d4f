"""Contractor history (S5): each estimate a department deal got from a contractor, kept on the contractor.

Every estimate is one durable record (a Link keyed by the deal: a deal has one contractor at a time),
and the company's figures — jobs, average rating, last price — are computed from all records of that
contractor, never incremented. Replaying an event, or the same estimate read twice, writes the same
record and the same figures, so nothing is counted twice; a deal handed to another contractor moves
its record, and both companies are recomputed.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pydantic import Field
from sqlalchemy import select

from connectors.bitrix24.wire import link_id
from connectors.bitrix24.writes import write_changes
from relay.actions.context import ActionContext
from relay.actions.params import MappingName, Params
from relay.registry import action
from relay.store.schema import Link

KIND = "bitrix24.contractor_job"


def number(value: Any) -> float | None:
    """`180000|RUB`, `"4.5"`, 4.5 → a float; empty or unreadable → None."""
    text = str(value if value is not None else "").split("|", 1)[0].strip().replace(",", ".").replace(" ", "")
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _plain(value: float | None) -> float | int | None:
    return int(value) if value is not None and value == int(value) else value


def history_of(store: Any, contractor_id: str) -> dict[str, Any]:
    """Figures over every recorded estimate of one contractor."""
    with store.session() as s:
        rows = s.scalars(select(Link).where(Link.kind == KIND, Link.value == contractor_id)).all()
        jobs = [dict(r.data or {}) for r in rows]
    jobs.sort(key=lambda j: (str(j.get("at", "")), int(j.get("deal_id", 0) or 0)))
    ratings = [j["rating"] for j in jobs if j.get("rating") is not None]
    priced = [j for j in jobs if j.get("price") is not None]
    return {"count": len(jobs), "jobs": jobs,
            "average_rating": round(sum(ratings) / len(ratings), 2) if ratings else "",
            "last_price": _plain(priced[-1]["price"]) if priced else ""}


class ContractorJobParams(Params):
    mapping: MappingName = Field(description="mapping: `fields` (company field → template over `history`, `job`), "
                                 "`templates.comment` (the timeline comment on the company)")
    contractor_field: str = Field("UF_CRM_CONTRACTOR", description="deal field naming the contractor company (`CO_5` or `5`)")
    price_field: str = Field("UF_CRM_CONTRACTOR_PRICE", description="deal field with the contractor's price (money `100|RUB` or a number)")
    rating_field: str = Field("UF_CRM_CONTRACTOR_SCORE", description="deal field with the rating given to the contractor")


@action("record_contractor_job", ContractorJobParams)
def record_contractor_job(ctx: ActionContext, p: ContractorJobParams) -> None:
    """Append a deal's contractor estimate (price, rating) to the contractor company: a timeline comment,
    and its figures (jobs, average rating, last price) recomputed from every recorded estimate."""
    b24 = ctx.connector("bitrix24")
    deal = ctx.context["entity"]
    deal_id, contractor = str(deal["ID"]), link_id(deal.get(p.contractor_field))
    if not contractor:
        ctx.trace("skip", f"deal {deal_id} names no contractor in {p.contractor_field}")
        return
    job = {"deal_id": deal_id, "title": str(deal.get("TITLE") or ""), "price": number(deal.get(p.price_field)),
           "rating": number(deal.get(p.rating_field))}
    links = ctx.runtime.links
    with ctx.runtime.store.session() as s:
        known = s.get(Link, (KIND, deal_id))
        before = (known.value, dict(known.data or {})) if known else None
    same = before is not None and before[0] == contractor and all(before[1].get(k) == v for k, v in job.items())
    if not same:
        links.set(KIND, deal_id, contractor, {**job, "at": datetime.now(timezone.utc).isoformat(timespec="microseconds")})
    mapping = ctx.mapping(p.mapping)
    history = history_of(ctx.runtime.store, contractor)
    shown_job = {**job, "price": _plain(job["price"]), "rating": _plain(job["rating"])}
    template = mapping.templates.get("comment")
    if template:
        text = ctx.render(template, job=shown_job, history=history)
        ctx.effect(lambda: b24.client.call("crm.timeline.comment.add", {"fields": {
            "ENTITY_ID": contractor, "ENTITY_TYPE": "company", "COMMENT": text}}),
            suffix=f"comment:{contractor}", target=f"bitrix24:company:{contractor}", describe={"comment": text, "company": contractor})
    _write_figures(ctx, b24, contractor, mapping.fields, shown_job, history)
    if before is not None and before[0] != contractor:
        # The deal moved to another contractor: the old one loses this job.
        _write_figures(ctx, b24, before[0], mapping.fields, shown_job, history_of(ctx.runtime.store, before[0]))


def _write_figures(ctx: ActionContext, b24: Any, company_id: str, fields: dict[str, str], job: dict[str, Any],
                   history: dict[str, Any]) -> None:
    company = b24.read("company", company_id)
    if company is None:
        ctx.trace("skip", f"contractor company {company_id} does not exist")
        return
    wanted = {k: ctx.render(v, job=job, history=history) for k, v in fields.items()}
    write_changes(ctx, b24, "company", company_id, company, wanted, suffix=f"company:{company_id}")
