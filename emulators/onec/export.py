"""`GET /_emulator/export/1c`: a bank emulator hands out its ledger as a 1C statement file.

Real banks let the accountant download kl_to_1c.txt from the internet bank; the bank emulators
mount this so the file comes from exactly the payments their APIs and webhooks report.
"""
from __future__ import annotations

from datetime import date, datetime

from flask import Response, jsonify

from emulators.common.payments import Ledger, Party
from emulators.onec.generator import ENCODINGS, FileOptions, render


def export_response(ledger: Ledger, owner: Party, args: dict[str, str], now: datetime) -> Response:
    """Render `owner`'s payments between `from` and `to` (YYYY-MM-DD, default: all) as a file download."""
    try:
        payments = ledger.all(owner.account)
        days = [p.date for p in payments] or [now.date()]
        start = date.fromisoformat(args["from"]) if args.get("from") else min(days)
        end = date.fromisoformat(args["to"]) if args.get("to") else max(days)
        opts = FileOptions(encoding=args.get("encoding", "cp1251"), created=now.replace(tzinfo=None),
                           purpose_style=args.get("purpose_style", "single"),  # type: ignore[arg-type]
                           bom=args.get("bom") == "1")
        if opts.encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {sorted(ENCODINGS)}")
    except ValueError as exc:
        response = jsonify({"error": str(exc)})
        response.status_code = 400
        return response
    data = render(owner, ledger.between(owner.account, start, end), start, end,
                  ledger.balance_before(owner.account, start), opts)
    charset = {"cp1251": "windows-1251", "cp866": "cp866", "utf-8": "utf-8"}[opts.encoding]
    return Response(data, content_type=f"text/plain; charset={charset}",
                    headers={"Content-Disposition": 'attachment; filename="kl_to_1c.txt"'})
