"""1CClientBankExchange statement files (kl_to_1c.txt) rendered from the shared payment model.

Every Russian bank can export this format, so it is the relay's universal fallback route. Files
are `Key=Value` lines with CRLF ends in windows-1251 (`Кодировка=Windows`), cp866 (`DOS`) or
UTF-8; the generator emits the sections of the reference sample and can add the variations real
banks produce (extra keys, numbered purpose lines) so the relay's parser meets them in tests.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable, Literal

from emulators.common.payments import Party, Payment, fmt2, totals
from emulators.common.ru_bank import bank

ENCODINGS = {"cp1251": "Windows", "cp866": "DOS", "utf-8": "UTF-8"}
PurposeStyle = Literal["single", "numbered", "both"]


@dataclass
class FileOptions:
    """Knobs for one file; defaults reproduce the reference sample."""

    encoding: str = "cp1251"
    version: str = "1.03"
    sender: str = "Бухгалтерия предприятия"
    receiver: str = ""
    created: datetime | None = None
    purpose_style: PurposeStyle = "single"
    purpose_chunk: int = 35
    extra_header: dict[str, str] = field(default_factory=dict)
    extra_document: dict[str, str] = field(default_factory=dict)
    bom: bool = False


def d(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _clean(value: str) -> str:
    """Values live on one line: CR/LF inside a purpose would break every 1C parser."""
    return " ".join(str(value).split())


def _party_lines(role: str, party: Party) -> list[tuple[str, str]]:
    return [(f"{role}", party.name), (f"{role}ИНН", party.inn), (f"{role}КПП", party.kpp),
            (f"{role}Банк1", party.bank_name), (f"{role}Банк2", f"г. {bank(party.bik).city}"),
            (f"{role}БИК", party.bik), (f"{role}Корсчет", party.corr_account)]


def document_lines(p: Payment, opts: FileOptions) -> list[tuple[str, str]]:
    """One `СекцияДокумент` … `КонецДокумента` block for a payment on our account."""
    lines = [("СекцияДокумент", p.document_type), ("Номер", p.document_number), ("Дата", d(p.document_date)),
             ("Сумма", fmt2(p.amount)), ("ПлательщикСчет", p.payer.account)]
    if p.direction == "outgoing":
        lines.append(("ДатаСписано", d(p.date)))
    lines += _party_lines("Плательщик", p.payer)
    lines.append(("ПолучательСчет", p.recipient.account))
    if p.direction == "incoming":
        lines.append(("ДатаПоступило", d(p.date)))
    lines += _party_lines("Получатель", p.recipient)
    lines += [("ВидОплаты", "01"), ("Очередность", p.priority)]
    purpose = _clean(p.purpose)
    if opts.purpose_style in ("single", "both"):
        lines.append(("НазначениеПлатежа", purpose))
    if opts.purpose_style in ("numbered", "both"):
        chunks = textwrap.wrap(purpose, opts.purpose_chunk, break_long_words=True) or [""]  # split at spaces
        lines += [(f"НазначениеПлатежа{n}", chunk) for n, chunk in enumerate(chunks, start=1)]
    lines += list(opts.extra_document.items())
    lines.append(("КонецДокумента", ""))
    return lines


def render_lines(owner: Party, payments: Iterable[Payment], start: date, end: date, opening: Decimal,
                 opts: FileOptions | None = None) -> list[str]:
    """The file as text lines (no line ends): header, balance section, documents, КонецФайла."""
    opts = opts or FileOptions()
    if opts.encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {sorted(ENCODINGS)}")
    created = opts.created or datetime.now()
    items = [p for p in payments if p.account == owner.account and p.status == "booked"]
    credit, debit = totals(items)
    pairs: list[tuple[str, str]] = [
        ("ВерсияФормата", opts.version), ("Кодировка", ENCODINGS[opts.encoding]), ("Отправитель", opts.sender),
        ("Получатель", opts.receiver), ("ДатаСоздания", d(created.date())),
        ("ВремяСоздания", created.strftime("%H:%M:%S")), ("ДатаНачала", d(start)), ("ДатаКонца", d(end)),
        ("РасчСчет", owner.account), *opts.extra_header.items(),
        ("СекцияРасчСчет", ""), ("ДатаНачала", d(start)), ("ДатаКонца", d(end)), ("РасчСчет", owner.account),
        ("НачальныйОстаток", fmt2(opening)), ("ВсегоПоступило", fmt2(credit)), ("ВсегоСписано", fmt2(debit)),
        ("КонечныйОстаток", fmt2(opening + credit - debit)), ("КонецРасчСчет", ""),
    ]
    for p in items:
        pairs += document_lines(p, opts)
    bare = {"СекцияРасчСчет", "КонецРасчСчет", "КонецДокумента"}
    lines = ["1CClientBankExchange"] + [k if k in bare else f"{k}={_clean(v)}" for k, v in pairs]
    return lines + ["КонецФайла"]


def render(owner: Party, payments: Iterable[Payment], start: date, end: date, opening: Decimal,
           opts: FileOptions | None = None) -> bytes:
    """The file as bytes: CRLF line ends, encoded as `opts.encoding` (unmappable characters become '?')."""
    opts = opts or FileOptions()
    text = "\r\n".join(render_lines(owner, payments, start, end, opening, opts)) + "\r\n"
    data = text.encode(opts.encoding, errors="replace")
    return (b"\xef\xbb\xbf" + data) if opts.bom and opts.encoding == "utf-8" else data
