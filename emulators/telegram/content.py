"""Message content as Telegram stores it: parse mode applied, entities detected, limits checked.

The same rules serve bot sends (text or caption from the API) and user posts from the control
endpoints, so a message a test "types" gets the bot_command/mention/url entities a real client's
message would carry.
"""
from __future__ import annotations

import re
from typing import Any

from . import errors as E
from .html_parse import HtmlParseError, parse_html
from .params import Params

_TLDS = ("com", "org", "net", "ru", "io", "me", "info", "biz", "su", "dev", "app", "by", "kz", "ua", "рф")
_AUTO = [
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")),
    ("email", re.compile(r"(?<![\w.@])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w@])")),
    ("url", re.compile(r"(?<![\w@/.])(?:https?://[^\s/$.?#][^\s]*"
                       r"|(?:[A-Za-z0-9-]+\.)+(?:%s)(?::\d+)?(?:/[^\s]*)?)(?![\w.]*\w)" % "|".join(_TLDS), re.I)),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d_]\w*")),
]
_OPAQUE = frozenset({"code", "pre", "text_link", "text_mention", "url", "email", "bot_command", "mention"})
_MARKDOWN_MODES = {"markdown", "markdownv2"}


def _u16_offsets(text: str) -> list[int]:
    """UTF-16 offset of every character position (one extra for the end)."""
    out, pos = [0], 0
    for ch in text:
        pos += 2 if ord(ch) > 0xFFFF else 1
        out.append(pos)
    return out


def detect_entities(text: str, given: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add what Telegram finds by itself (commands, mentions, links, e-mails, hashtags)."""
    u16 = _u16_offsets(text)
    taken = [(e["offset"], e["offset"] + e["length"]) for e in given if e.get("type") in _OPAQUE]
    found: list[dict[str, Any]] = []
    for kind, pattern in _AUTO:
        for m in pattern.finditer(text):
            stop = m.end()
            if kind == "url":  # trailing punctuation is not part of a link
                stop = m.start() + len(m.group(0).rstrip(".,;:!?)'\""))
            start, end = u16[m.start()], u16[stop]
            if any(start < b and a < end for a, b in taken):
                continue
            taken.append((start, end))
            found.append({"offset": start, "length": end - start, "type": kind})
    merged = list(given) + found
    merged.sort(key=lambda e: (e["offset"], -e["length"]))
    return merged


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram strips leading and trailing whitespace; entities move and shrink with the text."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = len(text[: len(text) - len(text.lstrip())].encode("utf-16-le")) // 2
    end = lead + len(stripped.encode("utf-16-le")) // 2
    kept = []
    for e in entities:
        a, b = max(e["offset"], lead), min(e["offset"] + e["length"], end)
        if b > a:
            kept.append({**e, "offset": a - lead, "length": b - a})
    return stripped, kept


def formatted(params: Params, text_key: str, entities_key: str, mode_key: str,
              required: bool, limit: int) -> tuple[str | None, list[dict[str, Any]] | None, str | None, str | None]:
    """(text, entities, parse_mode, source) for `text_key`, or the server's error.

    `required` distinguishes message text (empty → 'message text is empty') from captions.
    """
    source = params.get_str(text_key)
    mode = params.get_str(mode_key)
    if mode is not None and mode.strip() and mode.strip().lower() not in ({"html"} | _MARKDOWN_MODES):
        raise E.bad_request(E.UNSUPPORTED_PARSE_MODE)
    if source is None or source == "":
        if required:
            raise E.bad_request(E.TEXT_EMPTY)
        return None, None, mode or None, source
    entities: list[dict[str, Any]]
    if mode and mode.strip().lower() == "html":
        try:
            text, entities = parse_html(source)
        except HtmlParseError as exc:
            raise E.bad_request(f"can't parse entities: {exc}") from exc
    else:
        text = source  # Markdown modes are passed through unparsed (see docs)
        raw = params.get_json(entities_key, "can't parse entities JSON object") or []
        entities = [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []
    text, entities = _trim(text, entities)
    if not text:
        if required:
            raise E.bad_request(E.TEXT_EMPTY)
        return None, None, mode or None, source
    if len(text) > limit:
        raise E.bad_request(E.TEXT_TOO_LONG if required else E.CAPTION_TOO_LONG)
    return text, detect_entities(text, entities) or None, mode or None, source


_ACTIONS = {"url", "callback_data", "web_app", "login_url", "switch_inline_query", "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat", "copy_text", "callback_game", "pay"}


def reply_markup(params: Params) -> dict[str, Any] | None:
    """Validated reply_markup; an inline keyboard without buttons counts as none."""
    markup = params.get_json("reply_markup", E.BAD_MARKUP_JSON)
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise E.bad_request(E.BAD_MARKUP_JSON)
    if "inline_keyboard" not in markup:
        return markup  # reply keyboards etc.: kept, never echoed
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise E.bad_request(E.BAD_MARKUP_JSON)
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise E.bad_request(E.BUTTON_TEXT_NOT_STRING)
            if not _ACTIONS & set(button):
                raise E.bad_request(E.TEXT_BUTTONS_UNALLOWED)
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                    raise E.bad_request(E.BUTTON_DATA_INVALID)
    rows = [row for row in rows if row]
    return {"inline_keyboard": rows} if rows else None


def reply_target(params: Params) -> tuple[int | None, bool]:
    """(message id to reply to, allow_sending_without_reply) from reply_parameters or the legacy field."""
    parameters = params.get_json("reply_parameters", "can't parse reply parameters JSON object")
    if isinstance(parameters, dict) and parameters.get("message_id"):
        return int(parameters["message_id"]), bool(parameters.get("allow_sending_without_reply"))
    legacy = params.get_int("reply_to_message_id")
    return (legacy or None), params.get_bool("allow_sending_without_reply")
