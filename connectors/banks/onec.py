"""1C ClientBankExchange files (kl_to_1c.txt): the fallback every Russian bank can export.

`Key=Value` lines, CRLF, in windows-1251 (`Кодировка=Windows`), cp866 (`DOS`) or UTF-8. The reader
is strict about structure (a cut-off file must not import half its payments silently) and lenient
about content (unknown keys are ignored; `Плательщик1` or `Плательщик`; numbered purpose lines).
Every refusal names the line, so an accountant can open the file and see what is wrong.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable

from connectors.banks.model import Operation, digits, kopecks

ROUTE = "1c-file"
_DECLARED = {"windows": "cp1251", "dos": "cp866", "utf-8": "utf-8", "utf8": "utf-8"}
_BARE = {"СекцияРасчСчет", "КонецРасчСчет", "КонецДокумента", "КонецФайла"}


class OneCError(ValueError):
    """The file cannot be read; `line` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line, self.message = line, message


@dataclass
class Document:
    line: int
    kind: str
    values: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    def where(self, key: str) -> int:
        return self.lines.get(key, self.line)


@dataclass
class ExchangeFile:
    encoding: str
    header: dict[str, list[str]] = field(default_factory=dict)
    accounts: list[str] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)


def decode(data: bytes) -> tuple[str, str]:
    """(text, codec): a BOM or valid UTF-8 wins; otherwise the single-byte codec whose decoding
    declares itself in `Кодировка=`; windows-1251 when nothing says otherwise (the usual case)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    for codec in ("cp1251", "cp866"):
        text = data.decode(codec, errors="replace")
        declared = re.search(r"^Кодировка=(.*?)\s*$", text, re.M)
        if declared and _DECLARED.get(declared.group(1).strip().lower()) == codec:
            return text, codec
    return data.decode("cp1251", errors="replace"), "cp1251"


def read(data: bytes) -> ExchangeFile:
    """The file's structure; raises OneCError at the first line that breaks it."""
    text, codec = decode(data)
    lines = text.split("\n")
    if not lines or lines[0].strip().lstrip("\ufeff") != "1CClientBankExchange":
        raise OneCError(1, "not a 1C statement file: the first line must be 1CClientBankExchange")
    result = ExchangeFile(encoding=codec)
    section, opened, doc, account = "header", 1, None, None
    ended, last = False, 1
    for n, raw in enumerate(lines[1:], start=2):
        line = raw.strip()
        if not line or ended:
            continue
        last = n
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if key in _BARE and sep and key != "КонецФайла":
            raise OneCError(n, f"{key} takes no value")
        if key == "КонецФайла":
            if section != "header":
                raise OneCError(n, f"КонецФайла inside the section opened at line {opened}")
            ended = True
        elif key == "СекцияРасчСчет":
            _expect(section, "header", n, opened, key)
            section, opened, account = "account", n, None
        elif key == "КонецРасчСчет":
            _expect(section, "account", n, opened, key)
            if account:
                result.accounts.append(account)
            section = "header"
        elif key == "СекцияДокумент":
            _expect(section, "header", n, opened, key)
            section, opened, doc = "document", n, Document(n, value)
        elif key == "КонецДокумента":
            _expect(section, "document", n, opened, key)
            result.documents.append(doc)  # type: ignore[arg-type]
            section = "header"
        elif not sep:
            raise OneCError(n, f"expected Key=Value, found {line[:60]!r}")
        elif section == "header":
            result.header.setdefault(key, []).append(value)
        elif section == "account":
            account = digits(value) if key == "РасчСчет" else account
        else:
            assert doc is not None
            doc.values[key], doc.lines[key] = value, n
    if section != "header":
        raise OneCError(opened, "this section is never closed: the file is cut short")
    if not ended:
        raise OneCError(last, "the file ends without КонецФайла: it is cut short")
    return result


def _expect(section: str, wanted: str, n: int, opened: int, key: str) -> None:
    if section != wanted:
        where = "outside a section" if section == "header" else f"inside the section opened at line {opened}"
        raise OneCError(n, f"{key} {where}")


def parse(data: bytes, accounts: Iterable[str] = ()) -> list[Operation]:
    """Every posted leg on our accounts. Ours are the file's `РасчСчет` values plus `accounts`."""
    exchange = read(data)
    ours = {digits(a) for a in exchange.header.get("РасчСчет", [])} | set(exchange.accounts) | {digits(a) for a in accounts}
    ours.discard("")
    if not ours:
        raise OneCError(1, "the file names no РасчСчет, so incoming and outgoing cannot be told apart (pass --account)")
    operations: list[Operation] = []
    for doc in exchange.documents:
        operations.extend(_legs(doc, ours))
    return operations


def _legs(doc: Document, ours: set[str]) -> list[Operation]:
    v = doc.values
    payer = digits(v.get("ПлательщикСчет") or v.get("ПлательщикРасчСчет"))
    recipient = digits(v.get("ПолучательСчет") or v.get("ПолучательРасчСчет"))
    legs = []
    if recipient in ours:
        legs.append(_operation(doc, "C", recipient, "Плательщик", payer, "ДатаПоступило"))
    if payer in ours:
        legs.append(_operation(doc, "D", payer, "Получатель", recipient, "ДатаСписано"))
    if not legs:
        raise OneCError(doc.line, f"neither ПлательщикСчет ({payer or 'empty'}) nor ПолучательСчет ({recipient or 'empty'}) "
                                  f"is an account of this file ({', '.join(sorted(ours))})")
    return legs


def _date(doc: Document, key: str) -> date | None:
    value = doc.values.get(key, "")
    if not value:
        return None
    try:
        return datetime.strptime(value, "%d.%m.%Y").date()
    except ValueError:
        raise OneCError(doc.where(key), f"{key}={value!r} is not a date dd.mm.yyyy") from None


def _purpose(values: dict[str, str]) -> str:
    if values.get("НазначениеПлатежа"):
        return values["НазначениеПлатежа"]
    parts, n = [], 1
    while f"НазначениеПлатежа{n}" in values:
        parts.append(values[f"НазначениеПлатежа{n}"])
        n += 1
    return " ".join(p for p in parts if p)


def _operation(doc: Document, direction: str, ours: str, role: str, their_account: str, posted_key: str) -> Operation:
    v = doc.values
    if not v.get("Номер"):
        raise OneCError(doc.line, "the document has no Номер")
    try:
        amount = kopecks(v.get("Сумма"))
    except ValueError:
        raise OneCError(doc.where("Сумма"), f"Сумма={v.get('Сумма', '')!r} is not an amount") from None
    document_date = _date(doc, "Дата")
    posted = _date(doc, posted_key) or document_date  # the posting date; the payer's Дата only as a fallback
    if posted is None:
        raise OneCError(doc.line, f"the document has neither {posted_key} nor Дата")
    name = v.get(f"{role}1") or re.sub(r"^ИНН\s*\d+\s*", "", v.get(role, ""))
    try:
        return Operation(route=ROUTE, account=ours, direction=direction, amount_kopecks=amount, posted_on=posted,
                         document_number=v["Номер"], purpose=_purpose(v), counterparty_name=name.strip(),
                         counterparty_inn=digits(v.get(f"{role}ИНН")), counterparty_kpp=digits(v.get(f"{role}КПП")),
                         counterparty_account=their_account, counterparty_bik=digits(v.get(f"{role}БИК")),
                         counterparty_bank=v.get(f"{role}Банк1", ""), document_date=document_date,
                         raw={"line": doc.line, "type": doc.kind, **v})
    except ValueError as exc:
        raise OneCError(doc.line, str(exc)) from None
