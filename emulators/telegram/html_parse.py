"""Telegram's HTML parse mode, reimplemented after TDLib's `parse_html`.

The relay formats messages with `parse_mode=HTML`; the only way to be sure it escapes user text
correctly is to reject markup exactly where Telegram rejects it, with the same description
("Unsupported start tag \"p\" at byte offset 0", …). The scan works on UTF-8 bytes because the
error offsets are byte offsets, and counts UTF-16 code units because entity offsets are in those.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

SUPPORTED_TAGS = frozenset({"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler",
                            "tg-emoji", "span", "pre", "code", "blockquote"})
_SIMPLE = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
           "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
           "span": "spoiler"}
_SPACES = b" \t\r\n\v\x00"
_NAMED = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}


class HtmlParseError(ValueError):
    """TDLib's message; the server prefixes it with "can't parse entities: "."""


@dataclass
class _Open:
    tag: str
    argument: str
    offset: int      # UTF-16 offset in the result
    result_pos: int  # byte position in the result (for <a> without href)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Scanner:
    def __init__(self, source: str) -> None:
        self.b = source.encode("utf-8")

    def at(self, i: int) -> int:
        """Byte at i, 0 past the end — TDLib reads a NUL-terminated C string."""
        return self.b[i] if i < len(self.b) else 0

    def is_space(self, i: int) -> bool:
        return self.at(i) in _SPACES

    def decode_entity(self, pos: int) -> tuple[int, int]:
        """(code point or 0, position after the reference) for a `&…` at pos."""
        end = pos + 1
        code = 0
        if self.at(pos + 1) == ord("#"):
            end += 1
            if self.at(pos + 2) == ord("x"):
                end += 1
                while chr(self.at(end)) in "0123456789abcdefABCDEF" and self.at(end):
                    code = code * 16 + int(chr(self.at(end)), 16)
                    end += 1
            else:
                while ord("0") <= self.at(end) <= ord("9"):
                    code = code * 10 + self.at(end) - ord("0")
                    end += 1
            if code == 0 or code >= 0x10FFFF or end - pos >= 10:
                return 0, pos
        else:
            while chr(self.at(end)).isascii() and chr(self.at(end)).isalpha() and self.at(end):
                end += 1
            named = _NAMED.get(self.b[pos + 1:end])
            if named is None:
                return 0, pos
            code = ord(named)
        return code, end + 1 if self.at(end) == ord(";") else end


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and MessageEntity dicts for `source`, or HtmlParseError with TDLib's text."""
    s = _Scanner(source)
    out = bytearray()
    entities: list[dict[str, Any]] = []
    stack: list[_Open] = []
    u16 = 0
    bad_surrogate = False
    i = 0
    while i < len(s.b):
        c = s.b[i]
        if c == ord("&"):
            code, nxt = s.decode_entity(i)
            if code:
                bad_surrogate |= 0xD800 <= code <= 0xDFFF
                u16 += 2 if code > 0xFFFF else 1
                out += chr(code).encode("utf-8", "surrogatepass")
                i = nxt
                continue
        if c != ord("<"):
            if c & 0xC0 != 0x80:
                u16 += 2 if c >= 0xF0 else 1
            out.append(c)
            i += 1
            continue
        begin = i
        i += 1
        if s.at(i) != ord("/"):
            opened, i = _start_tag(s, begin, i, u16, len(out))
            stack.append(opened)
        else:
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {begin}")
            while not s.is_space(i) and s.at(i) != ord(">"):
                i += 1
            end_name = s.b[begin + 2:i].decode("utf-8", "replace").lower()
            while s.is_space(i) and s.at(i) != 0:
                i += 1
            if s.at(i) != ord(">"):
                raise HtmlParseError(f"Unclosed end tag at byte offset {begin}")
            top = stack[-1]
            if end_name and end_name != top.tag:
                raise HtmlParseError(f'Unmatched end tag at byte offset {begin}, expected "</{top.tag}>", '
                                     f'found "</{end_name}>"')
            if u16 > top.offset:
                _close(entities, top, u16 - top.offset, bytes(out))
            stack.pop()
        i += 1
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    if bad_surrogate:
        raise HtmlParseError("Text contains invalid Unicode characters after decoding HTML entities, "
                             "check for unmatched surrogate code units")
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return out.decode("utf-8"), entities


def _start_tag(s: _Scanner, begin: int, i: int, u16: int, result_pos: int) -> tuple[_Open, int]:
    while not s.is_space(i) and s.at(i) != ord(">"):
        i += 1
    if s.at(i) == 0:
        raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
    tag = s.b[begin + 1:i].decode("utf-8", "replace").lower()
    if tag not in SUPPORTED_TAGS:
        raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
    argument = ""
    while s.at(i) != ord(">"):
        while s.at(i) != 0 and s.is_space(i):
            i += 1
        if s.at(i) == ord(">"):
            break
        name_begin = i
        while not s.is_space(i) and s.at(i) not in (ord("="), ord(">")):
            i += 1
        name = s.b[name_begin:i].decode("utf-8", "replace")
        if not name:
            raise HtmlParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
        while s.at(i) != 0 and s.is_space(i):
            i += 1
        if s.at(i) != ord("="):
            if tag == "blockquote" and name == "expandable" and s.at(i) != 0:
                argument = "1"  # the documented value-less <blockquote expandable>
                continue
            raise HtmlParseError(f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                                 f"at byte offset {begin}")
        i += 1
        while s.at(i) != 0 and s.is_space(i):
            i += 1
        if s.at(i) == 0:
            raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        value, i = _attribute_value(s, i)
        if s.at(i) == 0:
            raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
        if (tag, name) in (("a", "href"), ("tg-emoji", "emoji-id")):
            argument = value
        elif tag == "code" and name == "class" and value.startswith("language-"):
            argument = value[9:]
        elif tag == "span" and name == "class" and value.startswith("tg-"):
            argument = value[3:]
    if tag == "span" and argument != "spoiler":
        raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
    return _Open(tag, argument, u16, result_pos), i


def _attribute_value(s: _Scanner, i: int) -> tuple[str, int]:
    if s.at(i) not in (ord("'"), ord('"')):
        start = i
        while chr(s.at(i)).isascii() and (chr(s.at(i)).isalnum() or s.at(i) in (ord("."), ord("-"))) and s.at(i):
            i += 1
        if not s.is_space(i) and s.at(i) != ord(">"):
            raise HtmlParseError(f"Unexpected end of name token at byte offset {start}")
        return s.b[start:i].decode("utf-8").lower(), i
    quote = s.at(i)
    i += 1
    value = bytearray()
    while s.at(i) != quote and s.at(i) != 0:
        if s.at(i) == ord("&"):
            code, nxt = s.decode_entity(i)
            if code:
                value += chr(code).encode("utf-8", "surrogatepass")
                i = nxt
                continue
        value.append(s.at(i))
        i += 1
    if s.at(i) == quote:
        i += 1
    return value.decode("utf-8", "replace"), i


def _close(entities: list[dict[str, Any]], top: _Open, length: int, result: bytes) -> None:
    offset, tag = top.offset, top.tag
    last = entities[-1] if entities else None
    same_span = bool(last and last["offset"] == offset and last["length"] == length)
    if tag in _SIMPLE:
        entities.append({"offset": offset, "length": length, "type": _SIMPLE[tag]})
    elif tag == "blockquote":
        kind = "expandable_blockquote" if top.argument else "blockquote"
        entities.append({"offset": offset, "length": length, "type": kind})
    elif tag == "tg-emoji":
        if not top.argument.isdigit() or not 0 < int(top.argument) < 2**63:
            raise HtmlParseError("Invalid custom emoji identifier specified")
        entities.append({"offset": offset, "length": length, "type": "custom_emoji",
                         "custom_emoji_id": top.argument})
    elif tag == "a":
        url = top.argument or result[top.result_pos:].decode("utf-8", "replace")
        checked = _checked_url(url)
        if checked:
            entities.append({"offset": offset, "length": length, "type": "text_link", "url": checked})
    elif tag == "pre":
        if last and same_span and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
        else:
            entities.append({"offset": offset, "length": length, "type": "pre"})
    elif tag == "code":
        if last and same_span and last["type"] == "pre" and top.argument:
            last["language"] = top.argument
        else:
            entity = {"offset": offset, "length": length, "type": "code"}
            if top.argument:
                entity["language"] = top.argument
            entities.append(entity)


def _checked_url(url: str) -> str | None:
    """A rough `check_url`: add http://, a trailing / on a bare host, drop what has no host."""
    url = url.strip()
    if not url:
        return None
    if url.startswith("tg://"):
        return url
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ton", "tonsite") or "." not in (parts.hostname or ""):
        return None
    if not parts.path:
        url = url.replace(parts.netloc, parts.netloc + "/", 1) if not parts.query else url
    return url
