"""The generic JSON webhook source: for n8n, Albato, scripts — anything that can sign a POST."""
from __future__ import annotations

import hashlib
import hmac
from typing import Any

from relay.config.models import WebhookSourceConfig
from relay.intake.base import IncomingEvent, InboundRequest, Rejected, json_object, same_secret
from relay.registry import register_source_type
from relay.templating import TemplateError, render


class WebhookSource:
    def __init__(self, name: str, settings: WebhookSourceConfig) -> None:
        self.name = name
        self.settings = settings

    def accept(self, request: InboundRequest) -> list[IncomingEvent]:
        self._authenticate(request)
        payload = json_object(request.body)
        context: dict[str, Any] = {"payload": payload, "headers": request.headers}
        try:
            kind = render(self.settings.kind, context).strip() or "webhook"
            entity = render(self.settings.entity_key, context).strip()
            idem = render(self.settings.idempotency_key, context).strip()
        except TemplateError as exc:
            raise Rejected(422, f"cannot read the event: {exc}") from None
        event = IncomingEvent(kind=kind, entity_key="", payload=payload, idem_key=idem).with_default_key(request.body)
        entity_key = f"{self.name}:{entity}" if entity else f"{self.name}:{event.idem_key}"
        return [IncomingEvent(kind, entity_key, payload, event.idem_key)]

    def _authenticate(self, request: InboundRequest) -> None:
        given = request.header(self.settings.header)
        if not given:
            raise Rejected(401, f"missing {self.settings.header} header")
        secret = self.settings.secret.get_secret_value()
        if self.settings.auth == "token":
            ok = same_secret(given, secret)
        else:
            expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
            ok = same_secret(given.removeprefix("sha256=").lower(), expected)
        if not ok:
            raise Rejected(403, f"{self.settings.header} does not match")


register_source_type("webhook", WebhookSourceConfig, lambda name, settings, runtime: WebhookSource(name, settings))
