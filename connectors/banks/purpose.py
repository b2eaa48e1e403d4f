"""What a payment purpose (назначение платежа, field 24) says: invoice, contract, VAT.

Purposes are free text typed by the payer's accountant, at most 210 characters and often cut off,
so parsing is best effort and must never fail: a purpose that says nothing we recognise gives
empty fields, never an exception. Rules and the Fintablo action read the result (`invoice`,
`contract`, `vat`) instead of repeating regular expressions in YAML.

Pitfalls handled here: `счет-фактура`/`с/ф` is a tax document, not an invoice to pay; `р/с`,
`расчетный счет` and 20-digit numbers are accounts; dates come as `d.m.yy` or with month names;
amounts as `1 000,00` or `15000-00`.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

_MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
           "ноября", "декабря")
_DATE = (r"(?P<date>\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{1,2}\s+(?:" + "|".join(_MONTHS) + r")\s+\d{4})"
         r"(?:\s*г(?:од[а]?)?\b\.?)?")
_NO = r"(?:№|N(?![A-Za-z])|No\.?(?![A-Za-z])|#|номер)?"
# A document number: optional letter prefix (А-17, ЦБ-9437), then a digit, then digits/letters/-/.
_TOKEN = r"[A-Za-zА-Яа-яЁё]{0,5}[-/]?\d[0-9A-Za-zА-Яа-яЁё/\-]*?(?=от(?:\s|\d|$)|[^0-9A-Za-zА-Яа-яЁё/\-]|$)"
_LIST = rf"(?P<num>{_TOKEN})(?P<more>(?:\s*(?:,|;|\bи\b)\s*{_NO}\s*{_TOKEN})*)"

# Invoice words, but not "счет-фактура"/"сч-ф"/"сч/ф" (tax documents) and not accounts ("р/с").
_INVOICE_WORD = (r"(?<![\w/-])(?:сч[её]т(?:у|а|ам|ов|е|ом)?(?:[\s-]*(?:оферт|договор)\w*)?|сч-т[ау]?|сч\.?|"
                 r"inv(?:oice)?\.?|инвойс[ау]?)(?![\s.]*[-/]?\s*ф(?:актур|-[а-яё]|[^0-9а-яёa-z-]|$))")
_ACCOUNT_BEFORE = re.compile(r"(?:расч[её]тн\w*|лицев\w*|р/|л/|корр?\.?\w*|банковск\w*|ссудн\w*|депозитн\w*)\s*$", re.I)
INVOICE_RE = re.compile(
    _INVOICE_WORD + r"\s*(?:на\s+оплату\s*|на\s+предоплату\s*)?"
    rf"(?:от\s*{_DATE.replace('date', 'date0')}\s*)?{_NO}\s*{_LIST}(?:\s*от\s*{_DATE})?", re.I)

_CONTRACT_WORD = r"(?<![\w/-])(?:договор(?:у|а|ом|е)?|дог\.?|д-р[ау]?|контракт(?:у|а)?|к-т[ау]?)"
CONTRACT_RE = re.compile(
    _CONTRACT_WORD + rf"(?:(?:\s+[а-яё]+){{1,3}}?\s*(?:№|N(?![A-Za-z])|No\.?)|\s*от\s*{_DATE.replace('date', 'date0')}\s*{_NO}|\s*{_NO})"
    rf"\s*(?P<num>{_TOKEN})(?:\s*от\s*{_DATE})?", re.I)

_AMOUNT = r"\d{1,3}(?:[ \u00a0]\d{3})+(?:[.,-]\d{1,2})?|\d+(?:[.,-]\d{1,2})?"
VAT_RE = re.compile(
    r"(?P<incl>в\s*т\.?\s*ч\.?|в\s+том\s+числе|включая)?\s*НДС\s*"
    r"(?:\(?\s*(?P<rate>\d{1,2}(?:[.,]\d+)?)\s*(?:%|/\s*1\d{2}(?:\s*%)?)\s*\)?)?\s*"
    rf"(?:[-–—:=]|сумма)?\s*(?P<amount>{_AMOUNT})?", re.I)
NO_VAT_RE = re.compile(r"без\s*(?:налога\s*\(?\s*)?НДС|НДС\s*не\s*(?:облагается|предусмотрен)|"
                       r"не\s*облагается\s*НДС|освобожд\w*\s+от\s+(?:уплаты\s+)?НДС|НДС\s*нет\b", re.I)


@dataclass(frozen=True)
class PurposeFields:
    """What the purpose names. Dates are ISO (`2025-02-01`) when they are real dates, else None."""

    invoice: str | None = None
    invoice_date: str | None = None
    invoices: list[str] = field(default_factory=list)  # "по счетам 101, 102": every number
    contract: str | None = None
    contract_date: str | None = None
    vat: str | None = None  # "included" (a rate or amount is stated) | "exempt" (без НДС) | None (not said)
    vat_rate: str | None = None  # "20"
    vat_amount: str | None = None  # "2000.00"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _iso_date(text: str | None) -> str | None:
    """`01.02.2025`, `3.2.24`, `1 февраля 2025` → ISO; None when it is not a calendar date."""
    if not text:
        return None
    named = re.fullmatch(r"(\d{1,2})\s+(\w+)\s+(\d{4})", text.strip())
    if named:
        day, month, year = int(named.group(1)), _MONTHS.index(named.group(2).lower()) + 1, int(named.group(3))
    else:
        parts = re.split(r"[./-]", text.strip())
        if len(parts) != 3:
            return None
        day, month, year = (int(p) for p in parts)
        year += 2000 if year < 100 else 0
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _clean_number(raw: str) -> str | None:
    """Trim trailing separators (`№ 45-`); None unless a digit is left."""
    number = raw.rstrip("-/")
    if not re.search(r"\d", number):
        return None
    return number


def money(text: str | None) -> str | None:
    """`1 000,00`, `2500-00`, `476.19` → `"1000.00"`; None if it is not an amount."""
    if not text:
        return None
    normal = re.sub(r"[ \u00a0]", "", text)
    normal = re.sub(r"[,-](\d{1,2})$", r".\1", normal)
    try:
        return str(Decimal(normal).quantize(Decimal("0.01")))
    except (InvalidOperation, ValueError):
        return None


def _invoices(text: str) -> tuple[list[str], str | None]:
    found: list[str] = []
    first_date = None
    for m in INVOICE_RE.finditer(text):
        if _ACCOUNT_BEFORE.search(text[:m.start()]):
            continue  # "расчетный счет 4070..." is an account
        numbers = [m.group("num")] + re.findall(_TOKEN, m.group("more") or "")
        for raw in numbers:
            number = _clean_number(raw)
            if number and not re.fullmatch(r"\d{20}", number) and number not in found:
                found.append(number)
        if first_date is None:
            first_date = _iso_date(m.group("date") or m.group("date0"))
    return found, first_date


def _contract(text: str) -> tuple[str | None, str | None]:
    for m in CONTRACT_RE.finditer(text):
        number = _clean_number(m.group("num"))
        if number:
            return number, _iso_date(m.group("date") or m.group("date0"))
    return None, None


def _vat(text: str) -> tuple[str | None, str | None, str | None]:
    best: tuple[str | None, str | None] | None = None
    for m in VAT_RE.finditer(text):
        rate = m.group("rate").replace(",", ".") if m.group("rate") else None
        amount = money(m.group("amount"))
        if rate is None and amount is None:
            continue
        if rate is not None and rate.endswith(".0"):
            rate = rate[:-2]
        if best is None or (best[1] is None and amount is not None):
            best = (rate, amount)
    if best is not None:
        return "included", best[0], best[1]
    if NO_VAT_RE.search(text):
        return "exempt", None, None
    return None, None, None


def parse_purpose(text: str | None) -> PurposeFields:
    """Parse one purpose; never raises, whatever the text."""
    if not text or not isinstance(text, str):
        return PurposeFields()
    text = " ".join(text.split())[:1000]  # flattened; a purpose is 210 characters, a file line may be more
    invoices, invoice_date = _invoices(text)
    contract, contract_date = _contract(text)
    vat, rate, amount = _vat(text)
    return PurposeFields(invoice=invoices[0] if invoices else None, invoice_date=invoice_date, invoices=invoices,
                         contract=contract, contract_date=contract_date, vat=vat, vat_rate=rate, vat_amount=amount)
