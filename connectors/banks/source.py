"""Intake at /hooks/bank/<route>: Tochka's signed webhooks and uploads of 1C statement files.

Each request is authenticated first (a refused request stores nothing), then its operations are
stored in `bank_operations` and their events handed to the intake, keyed by the operation, so a
payment the relay already knows from another route is acknowledged and queued no second time.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
from email import policy
from email.parser import BytesParser
from typing import Any

import jwt
from sqlalchemy.exc import SQLAlchemyError

from connectors.banks import onec, tochka
from connectors.banks.model import Operation
from connectors.banks.operations import Operations
from connectors.banks.settings import BankSettings, load_jwk_keys
from relay.intake.base import IncomingEvent, InboundRequest, Rejected, same_secret, text_problem
from relay.store.schema import BankOperation

log = logging.getLogger("relay.bank")


def _segment(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def verify_jwt(body: bytes, keys: list[Any]) -> dict[str, Any]:
    """Claims of a Tochka webhook body (a bare compact RS256 JWT).

    400 when the body is not a JWT at all; 401 when it is one but unsigned, signed with another key
    or with another algorithm. Tochka sends no exp/iss/aud, so none is required."""
    try:
        token = body.decode("ascii").strip()
        header_part, claims_part, signature = token.split(".")
        header, claims = _segment(header_part), _segment(claims_part)
    except (UnicodeDecodeError, ValueError, binascii.Error, RecursionError):
        raise Rejected(400, "the body is not a compact JWT (header.claims.signature)") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Rejected(400, "the JWT header and claims must be JSON objects")
    if not signature:
        raise Rejected(401, "the JWT is not signed")
    if not keys:
        raise Rejected(401, "no webhook key is configured (connectors.bank.tochka.webhook_jwk); refusing unverifiable webhooks")
    for key in keys:
        try:
            return jwt.decode(token, key, algorithms=["RS256"], options={"verify_aud": False})
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise Rejected(401, f"the JWT does not verify: {exc}") from None
    raise Rejected(401, "the JWT signature does not match Tochka's public key")


def _uploaded_file(request: InboundRequest) -> bytes:
    """The file itself: the raw body (`curl --data-binary @file`), or the first file part of a
    multipart form (`curl -F file=@file`), as admins send either."""
    content_type = request.header("content-type")
    if not content_type.lower().startswith("multipart/form-data"):
        return request.body
    message = BytesParser(policy=policy.HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + request.body)
    parts = [p for p in message.iter_parts() if p.get_filename()] if message.is_multipart() else []
    if not parts:
        raise Rejected(400, "the multipart upload holds no file part")
    payload = parts[0].get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _unstorable(op: Operation) -> str:
    """Why `bank_operations` could not keep this operation ("" if it can): text PostgreSQL refuses,
    values longer than their column, NaN in the raw claims."""
    columns = BankOperation.__table__.columns
    for name, value in vars(op).items():
        if not isinstance(value, str):
            continue
        column = columns.get("tochka_payment_id" if name == "route_id" else name)
        size = getattr(column.type, "length", None) if column is not None else None
        problem = text_problem(value) or (f"is longer than {size} characters" if size and len(value) > size else "")
        if problem:
            return f"{name} {problem}"
    try:
        json.dumps(op.raw, allow_nan=False)
    except (ValueError, RecursionError):
        return "the claims hold NaN or Infinity, or are nested too deeply"
    return ""


class BankSource:
    """`POST /hooks/bank/tochka` (webhooks) and `POST /hooks/bank/onec` (1C file uploads)."""

    name = "bank"

    def __init__(self, settings: BankSettings, operations: Operations) -> None:
        self.settings = settings
        self.operations = operations
        tochka_settings = settings.tochka
        self._keys = load_jwk_keys(tochka_settings.webhook_jwk) if tochka_settings and tochka_settings.webhook_jwk.strip() else []

    def accept(self, request: InboundRequest) -> list[IncomingEvent]:
        route = request.subpath.strip("/")
        if route == "tochka" and self.settings.tochka is not None:
            return self._tochka(request)
        if route == "onec" and self.settings.onec is not None:
            return self._onec(request)
        configured = [r for r, s in (("tochka", self.settings.tochka), ("onec", self.settings.onec)) if s is not None]
        raise Rejected(404, f"no bank route {route!r} is configured (configured: {', '.join(configured) or 'none'})")

    def _tochka(self, request: InboundRequest) -> list[IncomingEvent]:
        claims = verify_jwt(request.body, self._keys)
        try:
            op = tochka.from_webhook(claims)
        except (ValueError, TypeError, AttributeError) as exc:
            raise Rejected(400, f"the webhook claims are not a payment: {exc}") from None
        assert self.settings.tochka is not None
        if op is None or op.account not in self.settings.tochka.account_numbers:
            # Registration test webhooks (zero accounts), SBP and acquiring notices: acknowledged with
            # the 200 Tochka insists on; the money itself arrives through the statement.
            log.info("Tochka %s webhook acknowledged, nothing to store", claims.get("webhookType"))
            return []
        return self._ingest([op])

    def _onec(self, request: InboundRequest) -> list[IncomingEvent]:
        settings = self.settings.onec
        assert settings is not None
        given = request.header(settings.header)
        if not given:
            raise Rejected(401, f"missing {settings.header} header")
        if not same_secret(given, settings.token.get_secret_value()):
            raise Rejected(403, f"{settings.header} does not match connectors.bank.onec.token")
        data = _uploaded_file(request)
        if not data:
            raise Rejected(400, "empty upload: send the kl_to_1c.txt file as the request body (or as a multipart file)")
        try:
            operations = onec.parse(data)
        except onec.OneCError as exc:
            raise Rejected(422, f"upload:{exc.line}: {exc.message}") from None
        return self._ingest(operations)

    def _ingest(self, operations: list[Operation]) -> list[IncomingEvent]:
        """Store the rows; the intake stores their events. A store failure is a 503 (send again),
        never a 500, as the intake answers when it cannot store events itself."""
        for op in operations:
            problem = _unstorable(op)
            if problem:  # refused before anything is written: a row without its event would be lost
                raise Rejected(422, f"operation {op.document_number[:64]!r}: {problem}")
        try:
            return [r.event for r in self.operations.ingest(operations, queue=False)]
        except SQLAlchemyError as exc:
            log.error("could not store bank operations: %s", type(exc).__name__)
            raise Rejected(503, "the operation store is unavailable; nothing was stored, send again later") from None
