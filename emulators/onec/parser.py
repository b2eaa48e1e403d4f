"""A strict reader of 1CClientBankExchange files, used by the tests to check what the generator wrote.

It is deliberately separate from the generator (no shared key tables) so a round trip proves the
bytes on disk, not just our own constants; it also tolerates unknown keys, as the relay must.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_DECLARED = {"windows": "cp1251", "dos": "cp866", "utf-8": "utf-8", "utf8": "utf-8"}
_ENCODING_LINE = re.compile(r"^Кодировка=(.+?)\s*$", re.M)


@dataclass
class ExchangeFile:
    """Parsed file: header keys (repeats kept as lists), balance sections, documents in order."""

    encoding: str
    crlf: bool
    header: dict[str, Any] = field(default_factory=dict)
    accounts: list[dict[str, str]] = field(default_factory=list)
    documents: list[dict[str, str]] = field(default_factory=list)


def detect_encoding(data: bytes) -> str:
    """UTF-8 if the bytes decode as UTF-8 (Cyrillic cp1251/cp866 text practically never does), else the
    single-byte codec whose decoding names itself in `Кодировка=`; cp1251 when nothing says otherwise."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    for codec in ("cp1251", "cp866"):
        match = _ENCODING_LINE.search(data.decode(codec, errors="replace"))
        if match and _DECLARED.get(match.group(1).strip().lower()) == codec:
            return codec
    return "cp1251"


def parse(data: bytes) -> ExchangeFile:
    """Parse bytes; raises ValueError when the file is not a 1C exchange file or is cut short."""
    encoding = detect_encoding(data)
    text = data.decode(encoding)
    crlf = "\r\n" in text and "\n" not in text.replace("\r\n", "")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or lines[0].strip() != "1CClientBankExchange":
        raise ValueError("first line must be 1CClientBankExchange")
    if lines[-1].strip() != "КонецФайла":
        raise ValueError("file does not end with КонецФайла")
    result = ExchangeFile(encoding=encoding, crlf=crlf)
    current: dict[str, str] | None = None
    section = "header"
    for line in lines[1:-1]:
        key, _, value = line.partition("=")
        key = key.strip()
        if key == "СекцияРасчСчет":
            section, current = "account", {}
        elif key == "КонецРасчСчет":
            result.accounts.append(current or {})
            section, current = "header", None
        elif key == "СекцияДокумент":
            section, current = "document", {"СекцияДокумент": value}
        elif key == "КонецДокумента":
            result.documents.append(current or {})
            section, current = "header", None
        elif section == "header":
            if key in result.header:
                existing = result.header[key]
                result.header[key] = (existing if isinstance(existing, list) else [existing]) + [value]
            else:
                result.header[key] = value
        elif current is not None:
            current[key] = value
    if section != "header":
        raise ValueError(f"unterminated {section} section")
    return result


def purpose(document: dict[str, str]) -> str:
    """НазначениеПлатежа, or the numbered parts (split at spaces) joined by a space when only those are present."""
    if document.get("НазначениеПлатежа"):
        return document["НазначениеПлатежа"]
    parts, n = [], 1
    while f"НазначениеПлатежа{n}" in document:
        parts.append(document[f"НазначениеПлатежа{n}"])
        n += 1
    return " ".join(filter(None, parts))
