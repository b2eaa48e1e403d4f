"""1C ClientBankExchange files: byte-level round trips (cp1251/cp866/UTF-8, CRLF), variants, parser errors."""
from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from decimal import Decimal
from typing import Iterator

import pytest
import requests

from emulators.common.payments import Party, Payment
from emulators.common.server import RunningServer, serve_in_thread
from emulators.onec import FileOptions, parse, render
from emulators.onec.__main__ import main as onec_main
from emulators.onec.parser import purpose
from emulators.tbank import create_app as create_tbank

US = Party("ООО \"Северный ветер\"", "7743729438", "774301001", "40702810575689348581", "044525104")
ROMASHKA = Party("ООО \"Ромашка\"", "7701256557", "770101001", "40702810759363303048", "044525225")
LITERA = Party("ООО \"Литера\"", "7813794786", "781301001", "40702810744429481733", "044030653")
PURPOSE = "Оплата по счету № 123 от 01.02.2025 за внедрение CRM (этап 1). В т.ч. НДС 20% - 2000.00 руб."


def payment(direction: str = "incoming", **kw: object) -> Payment:
    fields: dict = dict(owner=US, counterparty=ROMASHKA if direction == "incoming" else LITERA, direction=direction,
                        amount=Decimal("12000.00"), purpose=PURPOSE, date=date(2025, 2, 3), time=time(10, 15),
                        document_number="315", document_date=date(2025, 2, 3))
    fields.update(kw)
    return Payment(**fields)


def statement_file(opts: FileOptions, payments: list[Payment] | None = None) -> bytes:
    items = payments if payments is not None else [payment(), payment("outgoing", amount=Decimal("3500.5"),
                                                                      document_number="1201",
                                                                      purpose="Аренда за февраль. Без НДС")]
    return render(US, items, date(2025, 2, 1), date(2025, 2, 28), Decimal("5000"),
                  opts)


def test_cp1251_round_trip_with_crlf() -> None:
    data = statement_file(FileOptions(created=datetime(2025, 2, 4, 9, 0)))
    assert data.startswith(b"1CClientBankExchange\r\n") and data.endswith("КонецФайла\r\n".encode("cp1251"))
    assert b"\n" not in data.replace(b"\r\n", b"")  # every line ends CRLF, no bare LF anywhere
    assert b"\r" not in data.replace(b"\r\n", b"")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really windows-1251 bytes
    assert "Кодировка=Windows".encode("cp1251") in data
    parsed = parse(data)
    assert parsed.encoding == "cp1251" and parsed.crlf
    assert parsed.header["ВерсияФормата"] == "1.03" and parsed.header["ДатаСоздания"] == "04.02.2025"
    assert parsed.header["ВремяСоздания"] == "09:00:00" and parsed.header["РасчСчет"] == US.account
    (balance,) = parsed.accounts
    assert balance == {"ДатаНачала": "01.02.2025", "ДатаКонца": "28.02.2025", "РасчСчет": US.account,
                       "НачальныйОстаток": "5000.00", "ВсегоПоступило": "12000.00", "ВсегоСписано": "3500.50",
                       "КонечныйОстаток": "13499.50"}
    incoming, outgoing = parsed.documents
    assert incoming["СекцияДокумент"] == "Платежное поручение"
    assert (incoming["Номер"], incoming["Дата"], incoming["Сумма"]) == ("315", "03.02.2025", "12000.00")
    assert incoming["ПлательщикИНН"] == ROMASHKA.inn and incoming["ПлательщикСчет"] == ROMASHKA.account
    assert incoming["Плательщик"] == "ООО \"Ромашка\"" and incoming["ПлательщикКорсчет"] == "30101810400000000225"
    assert incoming["ПолучательСчет"] == US.account and incoming["ДатаПоступило"] == "03.02.2025"
    assert "ДатаСписано" not in incoming and incoming["НазначениеПлатежа"] == PURPOSE
    assert outgoing["ДатаСписано"] == "03.02.2025" and outgoing["ПлательщикСчет"] == US.account
    assert outgoing["ПолучательБанк2"] == "г. Санкт-Петербург" and outgoing["Сумма"] == "3500.50"


@pytest.mark.parametrize("encoding,declared,bom", [("cp866", "DOS", False), ("utf-8", "UTF-8", False),
                                                   ("utf-8", "UTF-8", True)])
def test_other_encodings(encoding: str, declared: str, bom: bool) -> None:
    data = statement_file(FileOptions(encoding=encoding, bom=bom))
    assert f"Кодировка={declared}\r\n".encode(encoding) in data
    assert data.startswith(b"\xef\xbb\xbf") == bom
    parsed = parse(data)
    assert parsed.crlf and parsed.documents[0]["НазначениеПлатежа"] == PURPOSE
    assert parsed.documents[0]["Плательщик"] == "ООО \"Ромашка\""


def test_numbered_purpose_and_extra_keys() -> None:
    opts = FileOptions(purpose_style="numbered", purpose_chunk=40, extra_header={"ВерсияПрограммы": "Точка 2.1"},
                       extra_document={"Код": "0", "КодНазПлатежа": ""})
    parsed = parse(statement_file(opts, [payment()]))
    doc = parsed.documents[0]
    assert "НазначениеПлатежа" not in doc and PURPOSE.startswith(doc["НазначениеПлатежа1"] + " ")
    assert all(len(doc[f"НазначениеПлатежа{n}"]) <= 40 for n in range(1, 4))
    assert purpose(doc) == PURPOSE
    assert doc["Код"] == "0" and parsed.header["ВерсияПрограммы"] == "Точка 2.1"


def test_values_stay_on_one_line_and_unmappable_characters_degrade() -> None:
    odd = payment(purpose="Оплата\r\nпо счету № 7 🙂 — итог")
    data = statement_file(FileOptions(), [odd])
    doc = parse(data).documents[0]
    assert doc["НазначениеПлатежа"] == "Оплата по счету № 7 ? — итог"


def test_empty_period_still_has_balance_section() -> None:
    parsed = parse(statement_file(FileOptions(), []))
    assert parsed.documents == [] and parsed.accounts[0]["КонечныйОстаток"] == "5000.00"


@pytest.mark.parametrize("raw,problem", [
    ("Hello\r\nКонецФайла\r\n".encode("cp1251"), "first line"),
    ("1CClientBankExchange\r\nВерсияФормата=1.03\r\n".encode("cp1251"), "КонецФайла"),
    ("1CClientBankExchange\r\nСекцияДокумент=Платежное поручение\r\nНомер=1\r\nКонецФайла\r\n".encode("cp1251"),
     "unterminated"),
])
def test_parser_rejects_broken_files(raw: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse(raw)


def test_repeated_header_keys_are_kept() -> None:
    raw = "\r\n".join(["1CClientBankExchange", "РасчСчет=40702810575689348581", "РасчСчет=40702810437283605671",
                       "КонецФайла", ""]).encode("cp1251")
    assert parse(raw).header["РасчСчет"] == ["40702810575689348581", "40702810437283605671"]


@pytest.fixture
def tbank() -> Iterator[RunningServer]:
    with serve_in_thread(create_tbank()) as server:
        yield server


def test_bank_emulator_exports_its_ledger(tbank: RunningServer) -> None:
    r = requests.get(tbank.url + "/_emulator/export/1c", params={"from": "2025-02-01", "to": "2025-02-28"}, timeout=10)
    assert r.headers["Content-Type"] == "text/plain; charset=windows-1251"
    parsed = parse(r.content)
    assert [d["Номер"] for d in parsed.documents] == ["87", "1201"]
    assert (parsed.accounts[0]["НачальныйОстаток"], parsed.accounts[0]["КонечныйОстаток"]) == \
        ("120000.00", "185000.00")
    cp866 = requests.get(tbank.url + "/_emulator/export/1c", params={"encoding": "cp866"}, timeout=10)
    assert parse(cp866.content).encoding == "cp866"
    koi8 = requests.get(tbank.url + "/_emulator/export/1c", params={"encoding": "koi8-r"}, timeout=10)
    assert koi8.status_code == 400


def test_cli_writes_a_sample_file(tmp_path: Path) -> None:
    out = tmp_path / "kl_to_1c.txt"
    assert onec_main(["--out", str(out), "--encoding", "cp1251", "--purpose-style", "both"]) == 0
    parsed = parse(out.read_bytes())
    assert parsed.encoding == "cp1251" and parsed.crlf and len(parsed.documents) == 5
    late = next(d for d in parsed.documents if d["Номер"] == "402")
    assert (late["Дата"], late["ДатаПоступило"]) == ("17.02.2025", "18.02.2025")
    assert purpose({k: v for k, v in late.items() if k != "НазначениеПлатежа"}) == late["НазначениеПлатежа"]
