"""The payment-request smart process in the portal: read, list, write (as the relay's own writes), comment."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.bitrix24.client import Command
from connectors.bitrix24.payment_requests_setup import Setup, load_setup
from connectors.bitrix24.source import entity_key
from relay.actions.context import ActionContext

if TYPE_CHECKING:
    from connectors.bitrix24.connector import Bitrix24Connector

ALL_FIELDS = ["*", "uf_*"]


class RequestsPortal:
    def __init__(self, b24: "Bitrix24Connector", setup: Setup) -> None:
        self.b24 = b24
        self.setup = setup
        self.type_id = setup.entity_type_id

    def key(self, item_id: Any) -> str:
        """The entity key the Bitrix24 source gives this item's events (snapshots, own writes)."""
        return entity_key("item", str(item_id), str(self.type_id))

    def read(self, item_id: Any) -> dict[str, Any] | None:
        return self.b24.read("item", str(item_id), str(self.type_id))

    def in_stage(self, *stages: str) -> list[dict[str, Any]]:
        """Every request now in one of `stages` (the registry reads the approved ones)."""
        wanted = [s for s in stages if s]
        return self.b24.client.list_all("crm.item.list", {"entityTypeId": self.type_id, "filter": {"@stageId": wanted},
                                                          "select": ALL_FIELDS}, key="id")

    def latest_with_inn(self, inn: str, exclude_id: Any) -> dict[str, Any] | None:
        """The newest approved or paid request with this INN, other than `exclude_id` (those passed the checks)."""
        stages = [self.setup.stages.paid, self.setup.stages.approved]
        found = self.b24.client.call("crm.item.list", {
            "entityTypeId": self.type_id, "filter": {self.setup.fields.inn: inn, "@stageId": stages, "!id": exclude_id},
            "order": {"id": "DESC"}, "select": ALL_FIELDS})
        rows = found.get("items", []) if isinstance(found, dict) else found or []
        return rows[0] if rows else None

    def write(self, item_id: Any, fields: dict[str, Any], comment: str = "", notify_user: Any = None) -> str:
        """Set fields (remembered as own writes, so their echo is no change) and add one timeline comment,
        in one batch request. Returns the item id (the effect's external id)."""
        commands = []
        if fields:
            self.b24.runtime.snapshots.record_writes(self.key(item_id), fields)
            commands.append(Command("crm.item.update", {"entityTypeId": self.type_id, "id": item_id, "fields": fields}))
        if comment:
            commands.append(Command("crm.timeline.comment.add", {"fields": {
                "ENTITY_ID": item_id, "ENTITY_TYPE": f"dynamic_{self.type_id}", "COMMENT": comment}}))
        if comment and notify_user:
            commands.append(Command("im.notify.system.add", {"USER_ID": notify_user, "MESSAGE": comment}))
        if commands:
            self.b24.client.group(commands)
        return str(item_id)


def setup_of(ctx: ActionContext, mapping: str) -> Setup:
    return load_setup(ctx.runtime.config.mappings, mapping, ctx.runtime.config.base_dir)


def event_request(ctx: ActionContext, setup: Setup) -> dict[str, Any] | None:
    """The request this Bitrix24 event is about, as read back; None (traced) for anything else."""
    context = ctx.context
    item = context.get("entity")
    if context.get("entity_type") != "item" or context.get("deleted") or not isinstance(item, dict):
        ctx.trace("skip", "not a smart-process item event")
        return None
    if str(item.get("entityTypeId")) != str(setup.entity_type_id):
        ctx.trace("skip", f"item {item.get('id')} is of entityTypeId {item.get('entityTypeId')}, "
                          f"payment requests are {setup.entity_type_id}")
        return None
    return item
