"""Task comments as rules see them, and Planfix's comment HTML turned into what Telegram accepts.

A comment is "for the client" when a person of the team wrote it and addressed it to a contact
(Planfix's own way to notify a client), or when it starts with `connectors.planfix.client_marker`.
Planfix stores comment text as HTML (`<p>`, `<br>`, `<strong>`, lists, spans with styles);
Telegram's HTML mode accepts only a few tags and refuses the message over any other, so
`telegram_html` keeps bold, italic, underline, strike, links and code and turns the rest into
plain lines, every text escaped.
"""
from __future__ import annotations

import html
from datetime import tzinfo
from html.parser import HTMLParser
from typing import Any

from connectors.planfix.values import parse_moment

_KEEP = {"b": "b", "strong": "b", "i": "i", "em": "i", "u": "u", "ins": "u", "s": "s", "strike": "s", "del": "s",
         "code": "code", "pre": "pre", "a": "a"}
_BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}


class _ToTelegram(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKS and self.out and not self.out[-1].endswith("\n"):
            self.out.append("\n")
        if tag == "li":
            self.out.append("• ")
        kept = _KEEP.get(tag)
        if kept == "a":
            href = dict(attrs).get("href") or ""
            if href.startswith(("http://", "https://", "tg://", "mailto:")):
                self.out.append(f'<a href="{html.escape(href, quote=True)}">')
                self.open.append("a")
        elif kept:
            self.out.append(f"<{kept}>")
            self.open.append(kept)

    def handle_endtag(self, tag: str) -> None:
        kept = _KEEP.get(tag)
        if kept and kept in self.open:
            # close in order, so a sloppy <b><i></b> still yields valid nesting
            while self.open:
                last = self.open.pop()
                self.out.append(f"</{last}>")
                if last == kept:
                    break
        if tag in ("p", "div", "li", "blockquote") or tag.startswith("h") and tag[1:].isdigit():
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        self.out.append(html.escape(data, quote=False))

    def text(self) -> str:
        self.out.extend(f"</{t}>" for t in reversed(self.open))
        lines = "".join(self.out).replace("\xa0", " ").splitlines()
        return "\n".join(line.rstrip() for line in lines).strip()


def telegram_html(planfix_html: str) -> str:
    """Planfix comment HTML → Telegram HTML (only tags Telegram accepts; text escaped)."""
    parser = _ToTelegram()
    parser.feed(planfix_html or "")
    parser.close()
    return parser.text()


def plain_text(planfix_html: str) -> str:
    """The comment without any markup (for conditions and logs)."""
    parser = _ToTelegram()
    parser.feed(planfix_html or "")
    parser.close()
    return html.unescape(_strip_tags(parser.text()))


def _strip_tags(text: str) -> str:
    out, inside = [], False
    for ch in text:
        if ch == "<":
            inside = True
        elif ch == ">" and inside:
            inside = False
        elif not inside:
            out.append(ch)
    return "".join(out)


def comment_context(raw: dict[str, Any], marker: str, zone: tzinfo) -> dict[str, Any]:
    """`comment.…` for rules: text, Telegram HTML, author, addressees, files, whether it is for the client."""
    owner = raw.get("owner") or {}
    recipients = [str(u.get("id")) for u in (raw.get("recipients") or {}).get("users") or [] if isinstance(u, dict)]
    text = plain_text(str(raw.get("description") or ""))
    by_team = str(owner.get("id", "")).startswith("user:")
    marked = bool(marker) and text.lstrip().startswith(marker)
    shown = telegram_html(str(raw.get("description") or ""))
    if marked:
        shown = telegram_html(_drop_marker(str(raw.get("description") or ""), marker))
    when = parse_moment(raw.get("dateTime"))
    return {"id": int(raw["id"]), "text": text, "html": str(raw.get("description") or ""), "telegram_html": shown,
            "author": str(owner.get("name") or owner.get("id") or ""), "author_id": str(owner.get("id") or ""),
            "recipients": recipients, "for_client": by_team and (marked or any(r.startswith("contact:") for r in recipients)),
            "files": [{"id": f.get("id"), "name": f.get("name"), "size": f.get("size")} for f in raw.get("files") or []],
            "date": when.astimezone(zone).isoformat() if when else None, "from": str(raw.get("fromType") or ""),
            "deleted": bool(raw.get("isDeleted"))}


def _drop_marker(description: str, marker: str) -> str:
    """Remove the first occurrence of the marker from the HTML (it sits in the first text run)."""
    at = description.find(marker)
    if at < 0:
        at = description.find(html.escape(marker, quote=False))
        marker = html.escape(marker, quote=False)
    return description if at < 0 else description[:at] + description[at + len(marker):]
