"""Hypothesis strategies for hostile requests: broken bodies, forged credentials, odd content types.

Each strategy says what it is for: `malformed_*` bodies must be refused even when the credentials
are right; `forged_*` credentials must be refused whatever the body.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st

from tests.fuzz.world import MAX_BODY, sign_claims

CYRILLIC = "Привет мир ёЁ№ заказ оплачен «кавычки» — тире"

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                           max_leaves=12)
json_objects = st.dictionaries(st.text(max_size=12), json_values, max_size=6)

bad_utf8 = st.builds(lambda a, b: a + b"\xff\xfe\xc3\x28\xa0" + b, st.binary(max_size=40), st.binary(max_size=40))
cp1251_json = st.builds(lambda t: json.dumps({"type": "Заказ " + t, "text": t}, ensure_ascii=False).encode("cp1251"),
                        st.text(alphabet=CYRILLIC, max_size=40))
broken_json = st.sampled_from([
    b"", b"{", b'{"a":', b"[1, 2", b'{"a": 1,}', b"{'a': 1}", b"nul", b'{"a": NaN}', b'{"type": Infinity}',
    b'{"a": -Infinity}', b'"\\ud800"', b'{"a": "\\x00"}', b"\x00\x00\x00{", b'{"a"}', b"{}}", b"\xef\xbb\xbf{",
])
# Past Python's recursion limit (about 1000) json.loads raises RecursionError, which no ValueError handler catches.
deep_arrays = (st.sampled_from([990, 1200, MAX_BODY // 2 - 2]) | st.integers(min_value=50, max_value=MAX_BODY // 2 - 2)).map(
    lambda n: b"[" * n + b"]" * n)
non_object_json = json_values.filter(lambda v: not isinstance(v, dict)).map(lambda v: json.dumps(v).encode())
oversized = st.integers(min_value=MAX_BODY + 1, max_value=MAX_BODY * 3).map(lambda n: b'{"pad": "' + b"x" * n + b'"}')

malformed_json_body = st.one_of(bad_utf8, cp1251_json, broken_json, deep_arrays, non_object_json, oversized)
any_body = st.one_of(malformed_json_body, json_objects.map(lambda o: json.dumps(o).encode()), st.binary(max_size=300))

content_types = st.sampled_from([
    "", "application/json", "application/json; charset=cp1251", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=zz", "multipart/form-data", "text/plain; charset=windows-1251",
    "application/octet-stream", "application/jwt", "\x7f", "application/json; charset=\u0444",
])
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"), max_size=80)
odd_headers = st.dictionaries(st.sampled_from(["X-Forwarded-For", "X-Real-IP", "Accept-Charset", "X-Request-Id", "User-Agent",
                                               "Cookie", "Authorization", "Content-Encoding"]), header_text, max_size=3)


def hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@st.composite
def forged_signature(draw: st.DrawFn, secret: str, body: bytes) -> dict[str, str]:
    """Anything but the right HMAC of this body: none, junk, another body's, another secret's."""
    choice = draw(st.sampled_from(["missing", "junk", "other-body", "other-secret", "truncated", "upper-prefix"]))
    if choice == "missing":
        return {}
    if choice == "junk":
        return {"X-Relay-Signature": draw(header_text)}
    if choice == "other-body":
        return {"X-Relay-Signature": hmac_hex(secret, body + b" ")}
    if choice == "other-secret":
        return {"X-Relay-Signature": hmac_hex(secret + "x", body)}
    right = hmac_hex(secret, body)
    if choice == "truncated":
        return {"X-Relay-Signature": right[:-1]}
    return {"X-Relay-Signature": "SHA256=" + right[:-2] + "zz"}


@st.composite
def php_forms(draw: st.DrawFn, token: str | None) -> bytes:
    """A Bitrix24-style bracket form; `token` None means a wrong or missing application token."""
    pairs: list[tuple[str, str]] = []
    if token is not None:
        pairs.append(("auth[application_token]", token))
    elif draw(st.booleans()):
        pairs.append(("auth[application_token]", draw(st.text(max_size=40))))
    pairs.append(("event", draw(st.sampled_from(["ONCRMDEALUPDATE", "ONCRMDEALADD", "ONTASKUPDATE", "ONCRMDYNAMICITEMADD", "onCrmDealUpdate"])
                                | st.text(max_size=30))))
    shape = draw(st.sampled_from(["id-text", "fields-string", "data-string", "no-data", "nested-junk", "task-junk"]))
    if shape == "id-text":
        pairs.append(("data[FIELDS][ID]", draw(st.text(max_size=12).filter(lambda t: not (t.strip().isascii() and t.strip().isdigit())))))
    elif shape == "fields-string":
        pairs.append(("data[FIELDS]", draw(st.text(max_size=20))))
    elif shape == "data-string":
        pairs.append(("data", draw(st.text(max_size=20))))
    elif shape == "task-junk":
        pairs.append(("data[FIELDS_AFTER]", draw(st.text(max_size=20))))
    elif shape == "nested-junk":
        pairs.append(("data[FIELDS][ID][x]", "5"))
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.text(alphabet="ab[]_0", max_size=12))
        pairs.append((key, draw(st.text(max_size=20))))
    return urlencode(pairs).encode()


@st.composite
def tochka_bodies(draw: st.DrawFn, trusted: bool) -> bytes:
    """A trusted body is signed by the configured key but never describes a payment to our account;
    an untrusted one is anything else: junk, unsigned, `none`, HS256 with the public key, a forger's key."""
    claims = draw(st.fixed_dictionaries({}, optional={
        "webhookType": st.sampled_from(["incomingPayment", "outgoingPayment", "incomingSbpPayment"]) | st.text(max_size=20),
        "SidePayer": json_values, "SideRecipient": json_values, "amount": json_values, "date": json_values,
        "documentNumber": json_values, "paymentId": json_values, "purpose": json_values,
    }))
    if trusted:
        return sign_claims(claims)
    kind = draw(st.sampled_from(["junk", "forged", "unsigned", "none-alg", "segments", "hs256"]))
    if kind == "junk":
        return draw(st.binary(max_size=400))
    if kind == "forged":
        return sign_claims(claims, forged=True)
    token = sign_claims(claims).decode()
    head, body, _ = token.split(".")
    if kind == "unsigned":
        return f"{head}.{body}.".encode()
    if kind == "none-alg":
        none_head = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
        return f"{none_head}.{body}.".encode()
    if kind == "hs256":
        hs_head = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode()
        return f"{hs_head}.{body}.{base64.urlsafe_b64encode(b'sig').decode()}".encode()
    parts = draw(st.lists(st.text(alphabet="AZaz09-_=.+/", max_size=40), min_size=1, max_size=5))
    return ".".join(parts).encode()


def onec_bodies() -> st.SearchStrategy[bytes]:
    """Uploads that are not a usable 1C statement."""
    broken_file = st.builds(lambda lines: "\r\n".join(["1CClientBankExchange", *lines]).encode("cp1251", "replace"),
                            st.lists(st.sampled_from(["СекцияДокумент=Платежное поручение", "Номер=1", "Сумма=abc", "КонецДокумента",
                                                      "РасчСчет=123", "Дата=99.99.9999", "КонецФайла", "ВерсияФормата=1.03",
                                                      "Кодировка=Windows", "\x00"]) | st.text(max_size=30), max_size=12))
    multipart = st.builds(lambda inner: b"--zz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n" + inner + b"\r\n--zz--\r\n",
                          st.binary(max_size=100))
    return st.one_of(st.binary(max_size=400), bad_utf8, broken_file, multipart, oversized)


def telegram_malformed() -> st.SearchStrategy[bytes]:
    """Bodies that are not a Telegram Update even with the right secret."""
    no_update_id = json_objects.filter(lambda o: not isinstance(o.get("update_id"), int)).map(lambda o: json.dumps(o).encode())
    return st.one_of(malformed_json_body, no_update_id)


def jsonable(value: Any) -> bytes:
    return json.dumps(value).encode()


# One incoming payment to our account in 1C exchange format; the fuzzer fills the marked fields.
ONEC_TEMPLATE = """1CClientBankExchange
ВерсияФормата=1.03
Кодировка=UTF-8
РасчСчет=40702810575689348581
СекцияДокумент=Платежное поручение
Номер={number}
Дата=03.02.2025
Сумма={amount}
ПлательщикСчет=40702810759363303048
Плательщик={payer}
ПлательщикИНН=7701256557
ПлательщикБИК=044525225
ПолучательСчет=40702810575689348581
ДатаПоступило=03.02.2025
Получатель=ООО "Северный ветер"
ПолучательИНН=7743729438
ПолучательБИК=044525104
НазначениеПлатежа={purpose}
КонецДокумента
КонецФайла
"""
