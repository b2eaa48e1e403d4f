"""The HTML parse mode against TDLib's own parse_html test cases (texts, offsets, entities)."""
from __future__ import annotations

import pytest

from emulators.telegram.html_parse import HtmlParseError, parse_html


@pytest.mark.parametrize("source, error", [
    ("🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"),
    ("🏟 🏟&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'),
    ("🏟 🏟&lt;<i   =aba>", 'Empty attribute name in the tag "i" at byte offset 13'),
    ("🏟 🏟&lt;<i    aba>", 'Expected equal sign in declaration of an attribute of the tag "i" at byte offset 13'),
    ("🏟 🏟&lt;<i    aba  =  ", 'Unclosed start tag "i" at byte offset 13'),
    ("🏟 🏟&lt;<i    aba  =  190azAz-.,", "Unexpected end of name token at byte offset 27"),
    ('🏟 🏟&lt;<i    aba  =  "&lt;&gt;&quot;>', "Unclosed start tag at byte offset 13"),
    ("🏟 🏟&lt;</", "Unexpected end tag at byte offset 13"),
    ("🏟 🏟&lt;<b></b></", "Unexpected end tag at byte offset 20"),
    ("🏟 🏟&lt;<i>a</i   ", "Unclosed end tag at byte offset 17"),
    ("🏟 🏟&lt;<i>a</em   >", 'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"'),
    ("&#57311;", "Text contains invalid Unicode characters after decoding HTML entities, "
                 "check for unmatched surrogate code units"),
    ("<b>не закрыт", 'Can\'t find end tag corresponding to start tag "b"'),
    ("<br>", 'Unsupported start tag "br" at byte offset 0'),
    ('<tg-emoji emoji-id="x">y</tg-emoji>', "Invalid custom emoji identifier specified"),
])
def test_rejections(source: str, error: str) -> None:
    with pytest.raises(HtmlParseError) as info:
        parse_html(source)
    assert str(info.value) == error


@pytest.mark.parametrize("source, text, entities", [
    ("&lt;&gt;&amp;&quot;&laquo;&raquo;&#12345678;", '<>&"&laquo;&raquo;&#12345678;', []),
    ("➡️ ➡️<i>➡️ ➡️</i><b>➡️ ➡️</b>", "➡️ ➡️➡️ ➡️➡️ ➡️", [("italic", 5, 5), ("bold", 10, 5)]),
    ("🏟 🏟<i>🏟 &gt;<b aba   =   caba>&lt🏟</b></i>", "🏟 🏟🏟 ><🏟", [("italic", 5, 7), ("bold", 9, 3)]),
    ("🏟 🏟&lt;<i>🏟 🏟&lt;</>", "🏟 🏟<🏟 🏟<", [("italic", 6, 6)]),
    ("<a href=telegram.org> </a>", " ", [("text_link", 0, 1)]),
    ("<pre><code class=\"language-python\">x = 1</code></pre>", "x = 1", [("pre", 0, 5)]),
    ("<blockquote expandable>цитата</blockquote>", "цитата", [("expandable_blockquote", 0, 6)]),
    ('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>', "st", [("spoiler", 0, 1), ("spoiler", 1, 1)]),
    ("<u>u</u><s>s</s><code>c</code>", "usc", [("underline", 0, 1), ("strikethrough", 1, 1), ("code", 2, 1)]),
])
def test_accepted(source: str, text: str, entities: list[tuple[str, int, int]]) -> None:
    out_text, out_entities = parse_html(source)
    assert out_text == text
    assert [(e["type"], e["offset"], e["length"]) for e in out_entities] == entities


def test_link_and_language_details() -> None:
    assert parse_html("<a href=telegram.org>t</a>")[1][0]["url"] == "http://telegram.org/"
    assert parse_html('<pre><code class="language-fift">x</code></pre>')[1][0]["language"] == "fift"
