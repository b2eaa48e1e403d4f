"""1C statement files: every encoding and variation `emulators/onec` produces, refusals by line,
and `python app.py bank import FILE` through the CLI."""
from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.banks import onec
from emulators.common.payments import Ledger, Party, PaymentSpec, build_payment
from emulators.onec import FileOptions, render
from emulators.onec.__main__ import DEFAULT_SEED, ledger_from_seed
from emulators.onec.__main__ import main as write_onec_file
from relay.cli import main as relay_cli

ROOT = Path(__file__).resolve().parents[2]
OURS = "40702810575689348581"


def demo_file(**options: Any) -> bytes:
    owner, ledger = ledger_from_seed(yaml.safe_load(DEFAULT_SEED.read_text(encoding="utf-8")))
    start, end = date(2025, 2, 1), date(2025, 2, 28)
    opts = FileOptions(created=datetime(2025, 3, 1, 9, 0), **options)
    return render(owner, ledger.between(owner.account, start, end), start, end, ledger.balance_before(owner.account, start), opts)


@pytest.mark.parametrize("options", [
    {"encoding": "cp1251"}, {"encoding": "cp866"}, {"encoding": "utf-8"}, {"encoding": "utf-8", "bom": True},
    {"encoding": "cp1251", "purpose_style": "numbered"}, {"encoding": "cp866", "purpose_style": "both", "version": "1.02"},
    {"encoding": "cp1251", "extra_header": {"Программа": "Банк-Клиент"}, "extra_document": {"Код": "0", "СрокПлатежа": ""}},
])
def test_every_variation_reads_the_same(options: dict[str, Any]) -> None:
    data = demo_file(**options)
    ops = onec.parse(data)
    assert [(o.direction, o.document_number, o.amount_kopecks, o.posted_on.isoformat()) for o in ops] == [
        ("C", "315", 6_000_000, "2025-02-03"), ("D", "1200", 3_500_000, "2025-02-05"), ("C", "88", 1_500_000, "2025-02-10"),
        ("C", "402", 4_000_000, "2025-02-18"), ("D", "1201", 1_250_000, "2025-02-25")]
    late = ops[3]  # paid on the 17th by the payer's order, posted on the 18th: the key takes the posting date
    assert late.document_date == date(2025, 2, 17) and late.posted_on == date(2025, 2, 18)
    assert late.counterparty_inn == "7701256557" and late.counterparty_account == "40702810759363303048"
    assert late.purpose == "Оплата по сч. 123 от 1.2.25 окончательный расчет, в том числе НДС (20%) 6666-67"
    assert ops[1].counterparty_name == "ООО \"Литера\"" and ops[1].account == OURS


def test_line_ends_and_extra_blank_lines_do_not_matter() -> None:
    crlf = demo_file(encoding="utf-8")
    lf = crlf.replace(b"\r\n", b"\n").replace("\nКонецДокумента".encode(), "\n\n  КонецДокумента".encode())
    assert [o.key for o in onec.parse(lf)] == [o.key for o in onec.parse(crlf)]


def lines(*rows: str) -> bytes:
    return "\r\n".join(rows).encode("cp1251") + b"\r\n"


DOC = ["СекцияДокумент=Платежное поручение", "Номер=7", "Дата=03.03.2025", "Сумма=100.00",
       "ПлательщикСчет=40702810759363303048", "ПолучательСчет=" + OURS, "ДатаПоступило=03.03.2025", "КонецДокумента"]


@pytest.mark.parametrize("data,line,message", [
    (lines("Начало", "КонецФайла"), 1, "first line must be 1CClientBankExchange"),
    (lines("1CClientBankExchange", "РасчСчет=" + OURS, *DOC), 10, "ends without КонецФайла"),
    (lines("1CClientBankExchange", "РасчСчет=" + OURS, *DOC[:5]), 3, "never closed"),
    (lines("1CClientBankExchange", "РасчСчет=" + OURS, "просто строка", "КонецФайла"), 3, "expected Key=Value"),
    (lines("1CClientBankExchange", "РасчСчет=" + OURS, *DOC[:3], *DOC), 6, "СекцияДокумент inside the section opened at line 3"),
    (lines("1CClientBankExchange", "РасчСчет=" + OURS, "КонецДокумента", "КонецФайла"), 3, "КонецДокумента outside a section"),
    (lines("1CClientBankExchange", "РасчСчет=" + OURS, *[r.replace("100.00", "сто") for r in DOC], "КонецФайла"), 6, "Сумма='сто' is not an amount"),
    (lines("1CClientBankExchange", "РасчСчет=" + OURS, *[r.replace("ДатаПоступило=03.03.2025", "ДатаПоступило=33.03.2025") for r in DOC],
           "КонецФайла"), 9, "ДатаПоступило='33.03.2025' is not a date"),
    (lines("1CClientBankExchange", *DOC, "КонецФайла"), 1, "names no РасчСчет"),
    (lines("1CClientBankExchange", "РасчСчет=40702810437283605671", *DOC, "КонецФайла"), 3, "neither ПлательщикСчет"),
    (lines("1CClientBankExchange", "РасчСчет=" + OURS, *[r for r in DOC if not r.startswith("Номер")], "КонецФайла"), 3, "has no Номер"),
])
def test_malformed_files_are_refused_at_their_line(data: bytes, line: int, message: str) -> None:
    with pytest.raises(onec.OneCError) as caught:
        onec.parse(data)
    assert caught.value.line == line and message in caught.value.message


def test_account_from_the_command_line_when_the_file_names_none() -> None:
    (op,) = onec.parse(lines("1CClientBankExchange", *DOC, "КонецФайла"), accounts=[OURS])
    assert (op.direction, op.account, op.posted_on) == ("C", OURS, date(2025, 3, 3))


def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"store:\n  url: sqlite:///{tmp_path / 'relay.db'}\nlogging:\n  level: WARNING\nrules: []\nmappings: []\n",
                    encoding="utf-8")
    return path


def test_bank_import_of_a_cp1251_crlf_file_through_the_cli(tmp_path: Path) -> None:
    statement = tmp_path / "kl_to_1c.txt"
    assert write_onec_file(["--out", str(statement), "--encoding", "cp1251"]) == 0
    assert statement.read_bytes().count(b"\r\n") > 20 and b"\xca\xee\xed\xe5\xf6\xd4\xe0\xe9\xeb\xe0" in statement.read_bytes()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(ROOT / "app.py"), "--config", str(config(tmp_path)), *args],
                              capture_output=True, text=True, cwd=ROOT, timeout=60)

    first = cli("bank", "import", str(statement))
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "kl_to_1c.txt: 5 operation(s): 5 new, 0 already known"
    broken = tmp_path / "broken.txt"
    broken.write_bytes(statement.read_bytes().replace("Сумма=40000.00".encode("cp1251"), "Сумма=40 тыс".encode("cp1251")))
    refused = cli("bank", "import", str(broken))
    assert refused.returncode == 1 and refused.stdout == ""
    (message,) = refused.stderr.strip().splitlines()
    number = next(n for n, row in enumerate(broken.read_bytes().split(b"\r\n"), start=1) if row.startswith("Сумма=40 ".encode("cp1251")))
    assert message == f"error: {broken}:{number}: Сумма='40 тыс' is not an amount"


def test_reimport_counts_known_operations_and_big_files_show_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    owner = Party("ООО \"Северный ветер\"", "7743729438", "774301001", OURS, "044525104")
    ledger = Ledger({OURS: Decimal("0")})
    payer = {"name": "ООО \"Ромашка\"", "inn": "7701256557", "kpp": "770101001", "account": "40702810759363303048", "bik": "044525225"}
    for n in range(1, 601):
        spec = PaymentSpec.model_validate({"direction": "incoming", "amount": f"{n}.50", "purpose": f"Оплата по счету № {n}",
                                           "counterparty": payer, "date": "2025-03-03", "documentNumber": str(n)})
        ledger.add(build_payment(spec, owner, datetime(2025, 3, 3, 12, 0), str(n)))
    big = tmp_path / "big.txt"
    big.write_bytes(render(owner, ledger.all(), date(2025, 3, 3), date(2025, 3, 3), Decimal("0"), FileOptions(encoding="cp866")))
    assert relay_cli(["--config", str(config(tmp_path)), "bank", "import", str(big)]) == 0
    first = capsys.readouterr()
    assert first.out.strip() == "big.txt: 600 operation(s): 600 new, 0 already known"
    assert "600/600" in first.err  # tqdm's bar, on stderr
    assert relay_cli(["--config", str(config(tmp_path)), "bank", "import", str(big)]) == 0
    assert capsys.readouterr().out.strip() == "big.txt: 600 operation(s): 0 new, 600 already known"
    assert relay_cli(["--config", str(config(tmp_path)), "bank", "import", str(tmp_path / "missing.txt")]) == 1
    assert "missing.txt: No such file or directory" in capsys.readouterr().err
