"""`python -m emulators.onec [--seed file.yaml] [--out kl_to_1c.txt] [--encoding cp1251|cp866|utf-8]`

Writes a sample 1C statement file from a seed in the bank-emulator format (customer/company,
accounts, payments), so an accountant-style file can be fed to the relay by hand.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from emulators.common.clock import MSK
from emulators.common.payments import Ledger, Party, PaymentSpec, build_payment, money
from emulators.onec.generator import ENCODINGS, FileOptions, render

DEFAULT_SEED = Path(__file__).parent / "seeds" / "demo.yaml"


def ledger_from_seed(seed: dict[str, Any]) -> tuple[Party, Ledger]:
    """Our first account and a ledger holding the seed's payments on it."""
    company = seed.get("customer") or seed["company"]
    first = seed["accounts"][0]
    owner = Party(company["name"], str(company["inn"]), str(company.get("kpp", "")), str(first["account"]),
                  str(first["bik"]))
    ledger = Ledger({owner.account: money(first.get("opening_balance", 0))})
    for n, raw in enumerate(seed.get("payments", []) or [], start=1):
        spec = PaymentSpec.model_validate(raw)
        ledger.add(build_payment(spec, owner, datetime.now(MSK), spec.document_number or str(n)))
    return owner, ledger


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a 1CClientBankExchange statement file")
    parser.add_argument("--seed", default=str(DEFAULT_SEED))
    parser.add_argument("--out", default="kl_to_1c.txt", help="output path, '-' for stdout")
    parser.add_argument("--encoding", default="cp1251", choices=sorted(ENCODINGS))
    parser.add_argument("--purpose-style", default="single", choices=["single", "numbered", "both"])
    args = parser.parse_args(argv)
    seed = yaml.safe_load(Path(args.seed).read_text(encoding="utf-8"))
    owner, ledger = ledger_from_seed(seed)
    days = [p.date for p in ledger.all()] or [date.today()]
    start, end = min(days), max(days)
    opts = FileOptions(encoding=args.encoding, purpose_style=args.purpose_style,
                       created=datetime.now(MSK).replace(tzinfo=None))
    data = render(owner, ledger.between(owner.account, start, end), start, end,
                  ledger.balance_before(owner.account, start), opts)
    if args.out == "-":
        sys.stdout.buffer.write(data)
    else:
        Path(args.out).write_bytes(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
