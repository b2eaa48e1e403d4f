"""The Google Forms emulator's own contract: the JWT grant's checks, Google's error envelopes, the
responses.list filter and page tokens."""
from __future__ import annotations

from typing import Any, Iterator

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from emulators.common.clock import ManualClock
from emulators.common.server import RunningServer, serve_in_thread
from emulators.google_forms import create_app

FORM = "1FAIpQLSdemoBriefForm0000000000000000000000"
EMAIL = "relay-forms@crm-relay-demo.iam.gserviceaccount.com"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
START = 1_761_901_200.0  # 2025-10-31 09:00 UTC


@pytest.fixture(scope="module")
def keys() -> tuple[Any, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return key, public


@pytest.fixture
def gf(keys: tuple[Any, str]) -> Iterator[tuple[RunningServer, ManualClock]]:
    clock = ManualClock(START)
    app = create_app(clock=clock)
    with serve_in_thread(app) as server:
        requests.post(f"{server.url}/_emulator/service-accounts", json={"client_email": EMAIL, "public_key": keys[1], "forms": [FORM]}, timeout=5)
        yield server, clock


def _assertion(key: Any, url: str, **claims: Any) -> str:
    now = int(START)
    body = {"iss": EMAIL, "scope": "https://www.googleapis.com/auth/forms.responses.readonly", "aud": f"{url}/token",
            "iat": now, "exp": now + 3600, **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm="RS256")


def _token(url: str, assertion: str, grant: str = GRANT) -> requests.Response:
    return requests.post(f"{url}/token", data={"grant_type": grant, "assertion": assertion}, timeout=5)


def test_the_jwt_grant_checks_signature_audience_lifetime_and_scope(gf: tuple[RunningServer, ManualClock], keys: tuple[Any, str]) -> None:
    server, _ = gf
    url, key = server.url, keys[0]
    good = _token(url, _assertion(key, url))
    assert good.status_code == 200 and good.json()["token_type"] == "Bearer" and good.json()["expires_in"] == 3599
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases = [
        (_token(url, _assertion(other, url)), "Invalid JWT Signature."),
        (_token(url, _assertion(key, url, aud="https://oauth2.googleapis.com/token")), "audience"),
        (_token(url, _assertion(key, url, exp=int(START) + 7200)), "short-lived token"),
        (_token(url, _assertion(key, url, iat=int(START) - 7200, exp=int(START) - 3600)), "short-lived token"),
        (_token(url, _assertion(key, url, iss="someone@else.iam.gserviceaccount.com")), "account not found"),
        (_token(url, _assertion(key, url, scope="https://www.googleapis.com/auth/calendar")), "Invalid OAuth scope"),
        (_token(url, _assertion(key, url), grant="client_credentials"), "Invalid grant_type"),
    ]
    for answer, words in cases:
        assert answer.status_code == 400 and words in answer.json()["error_description"], answer.text


def test_api_errors_and_the_filtered_paged_list(gf: tuple[RunningServer, ManualClock], keys: tuple[Any, str]) -> None:
    server, clock = gf
    url = server.url
    assert requests.get(f"{url}/v1/forms/{FORM}", timeout=5).json()["error"]["status"] == "UNAUTHENTICATED"
    auth = {"Authorization": "Bearer " + _token(url, _assertion(keys[0], url)).json()["access_token"]}
    assert requests.get(f"{url}/v1/forms/nope", headers=auth, timeout=5).status_code == 404
    requests.post(f"{url}/_emulator/service-accounts", json={"client_email": EMAIL, "public_key": keys[1], "forms": []}, timeout=5)
    assert requests.get(f"{url}/v1/forms/{FORM}", headers=auth, timeout=5).json()["error"]["status"] == "PERMISSION_DENIED"
    requests.post(f"{url}/_emulator/service-accounts", json={"client_email": EMAIL, "public_key": keys[1], "forms": [FORM]}, timeout=5)
    form = requests.get(f"{url}/v1/forms/{FORM}", headers=auth, timeout=5).json()
    assert form["items"][0]["questionItem"]["question"]["questionId"] == "3b9aca01"
    for n in range(5):
        clock.advance(60)
        requests.post(f"{url}/_emulator/forms/{FORM}/submit", json={"answers": {"Сайт": f"s{n}.example"}, "push": False}, timeout=5)
    since = "2025-10-31T09:02:00Z"                           # the second response's second
    listed = f"{url}/v1/forms/{FORM}/responses"
    rows, token = [], None
    while True:
        page = requests.get(listed, headers=auth, params={"filter": f"timestamp >= {since}", "pageSize": 2,
                                                          **({"pageToken": token} if token else {})}, timeout=5).json()
        rows += page.get("responses", [])
        token = page.get("nextPageToken")
        if not token:
            break
    assert [r["answers"]["3b9aca04"]["textAnswers"]["answers"][0]["value"] for r in rows] == ["s1.example", "s2.example", "s3.example", "s4.example"]
    strictly = requests.get(listed, headers=auth, params={"filter": f"timestamp > {since}"}, timeout=5).json()["responses"]
    assert len(strictly) == 3
    bad = requests.get(listed, headers=auth, params={"filter": "createTime > yesterday"}, timeout=5)
    assert bad.status_code == 400 and bad.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert requests.get(listed, headers=auth, params={"pageToken": "garbage"}, timeout=5).status_code == 400
    clock.advance(3600)
    assert requests.get(listed, headers=auth, timeout=5).status_code == 401          # the token expired

