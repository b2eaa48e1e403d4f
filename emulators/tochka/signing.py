"""Tochka's RSA key: webhook JWTs signed RS256, the public key served as one bare JWK, API tokens.

Tochka signs webhook bodies with RS256, header `{"typ":"JWT","alg":"RS256"}` and no `kid`, and
its Python backend serialises the claims with `json.dumps` defaults (", " / ": " separators,
Cyrillic as \\uXXXX). We build the token by hand to reproduce those bytes; PyJWT would compact them.
"""
from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

WEBHOOK_HEADER = b'{"typ":"JWT","alg":"RS256"}'
ISSUER = "tochka-emulator"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def load_key(pem: str) -> RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, RSAPrivateKey)
    return key


def public_jwk(key: RSAPrivateKey) -> dict[str, str]:
    """The single JWK Tochka serves (not a JWKS): only kty, e, n."""
    numbers = key.public_key().public_numbers()

    def as_b64(value: int) -> str:
        return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))

    return {"kty": "RSA", "e": as_b64(numbers.e), "n": as_b64(numbers.n)}


def sign_webhook(claims: dict[str, Any], key: RSAPrivateKey) -> str:
    """Compact JWS over Python-style JSON claims, exactly as Tochka's webhook body looks."""
    payload = json.dumps(claims).encode()  # default separators and ensure_ascii, on purpose
    signing_input = b64url(WEBHOOK_HEADER) + "." + b64url(payload)
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64url(signature)


def mint_access_token(key: RSAPrivateKey, *, client_id: str, customer_code: str, permissions: list[str],
                      ttl: float, now: float, kind: str) -> str:
    """An API bearer token the emulator itself will accept (a "JWT key" or an OAuth access token)."""
    claims = {"iss": ISSUER, "sub": client_id, "customerCode": customer_code, "permissions": permissions,
              "kind": kind, "iat": int(now), "exp": int(now + ttl), "jti": uuid.uuid4().hex}
    return jwt.encode(claims, key, algorithm="RS256")


def read_access_token(token: str, key: RSAPrivateKey, now: float | None = None) -> dict[str, Any] | None:
    """Claims of a token we minted and that has not expired by `now`; None otherwise."""
    try:
        claims = jwt.decode(token, key.public_key(), algorithms=["RS256"], issuer=ISSUER,
                            options={"verify_exp": False, "require": ["exp", "iss", "sub"]})
    except jwt.PyJWTError:
        return None
    if claims["exp"] <= (time.time() if now is None else now):
        return None
    return claims
