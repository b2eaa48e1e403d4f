"""The Google Forms emulator in the sandbox: its forms' Apps Script triggers push to the relay.

Submissions reach the relay the way a real form's do: the form's trigger (installed with the form's
`secret` from `connectors.forms`) posts each one, signed, to `/hooks/forms/<name>`. With `poll`
configured, the Forms API and its token endpoint are the emulator's, and the service account's key
is registered there, so polling works as well.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
from flask import Flask
from pydantic import SecretStr

from relay.sandbox.emulators import EmulatorSpec


def _secret(value: Any) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value or "")


def build(seed: Path | None, settings: Any) -> Flask:
    from emulators.google_forms import create_app
    return create_app(str(seed) if seed else None)  # the system clock: the relay checks each push's timestamp


def point(settings: Any, url: str, app: Flask) -> Any:
    if settings.poll is None:
        return settings
    poll = settings.poll.model_copy(update={"api_url": url, "token_url": f"{url}/token"})
    return settings.model_copy(update={"poll": poll})


def _known_forms(app: Flask) -> set[str]:
    return set(app.extensions["google_forms"].state.forms)


def _public_key(service_account: str) -> tuple[str, str]:
    """(client_email, public key PEM) of the configured key: its JSON, or a file (absolute, or relative to
    the working directory). Raises ValueError saying what is wrong, never quoting the key."""
    from cryptography.hazmat.primitives import serialization
    from connectors.google_forms.settings import service_account_key
    key = service_account_key(service_account, Path.cwd())
    private = serialization.load_pem_private_key(key["private_key"].encode(), password=None)
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return str(key["client_email"]), pem.decode()


def wire(app: Flask, url: str, relay: str, settings: Any) -> list[str]:
    """Install each configured form's trigger (as `installTrigger` in apps_script.gs does), and let the
    poller's service account in."""
    known, lines = _known_forms(app), []
    for name, form in settings.forms.items():
        if form.form_id not in known:
            lines.append(f"form {name}: form_id {form.form_id or '(empty)'} is not in the emulator's seed: nothing is pushed")
            continue
        hook = f"{relay}/hooks/forms/{name}"
        answer = requests.post(f"{url}/_emulator/forms/{form.form_id}/trigger", timeout=10,
                               json={"url": hook, "secret": _secret(form.secret)})
        answer.raise_for_status()
        lines.append(f"form {name}: submissions → {hook} (signed with the form's secret, as apps_script.gs does)")
    if settings.poll is not None:
        try:
            email, pem = _public_key(_secret(settings.poll.service_account))
        except (ValueError, TypeError) as exc:
            lines.append(f"polling: the service-account key cannot be read ({exc}); the emulator refuses its tokens")
        else:
            forms = [form.form_id for form in settings.forms.values() if form.form_id in known]
            requests.post(f"{url}/_emulator/service-accounts", timeout=10,
                          json={"client_email": email, "public_key": pem, "forms": forms}).raise_for_status()
            lines.append(f"polling: service account {email} may read {', '.join(forms) or 'no form'}")
    return lines


def describe(app: Flask, url: str) -> str:
    titles = [f"«{form.title}» {form.form_id}" for form in app.extensions["google_forms"].state.forms.values()]
    return "forms " + ", ".join(titles)


SPEC = EmulatorSpec("google_forms", "Google Forms API", build, connector="forms", point=point, wire=wire, describe=describe)
