"""Live mode refuses the sandbox's default secrets, as it refuses the sandbox admin password.

The shipped config.yaml writes every secret as `${VAR:-default}` so the sandbox needs no set-up;
the defaults are the emulators' demo credentials or start with `sandbox-only`. A live relay holding
one of them would talk to real systems with a published secret (or accept webhooks signed with one),
so loading refuses it and names the line.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from pydantic import BaseModel, SecretStr

from relay.config.errors import ConfigProblem
from relay.config.yamlfile import YamlDoc, dotted

if TYPE_CHECKING:
    from relay.config.loader import LoadedConfig

SANDBOX_ONLY = "sandbox-only"  # the prefix of made-up sandbox secrets (webhook secrets, upload tokens)


def secret_fields(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(path, value) of every SecretStr inside a settings model, through nested models, dicts and lists."""
    if isinstance(value, SecretStr):
        yield path, value.get_secret_value()
    elif isinstance(value, BaseModel):
        for name, info in type(value).model_fields.items():
            yield from secret_fields(getattr(value, name), path + (info.alias or name,))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from secret_fields(item, path + (str(key),))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from secret_fields(item, path + (i,))


def is_sandbox_secret(value: str, known: set[str]) -> bool:
    return value.startswith(SANDBOX_ONLY) or any(secret in value for secret in known)


def sandbox_secret_problems(loaded: "LoadedConfig", doc: YamlDoc) -> list[ConfigProblem]:
    """In live mode: one problem per source or connector secret that is still a sandbox default."""
    if loaded.settings.mode != "live":
        return []
    from relay.sandbox.emulators import demo_secrets
    known = demo_secrets()
    problems = []
    for group, models in (("sources", loaded.sources), ("connectors", loaded.connectors)):
        for name, model in models.items():
            for inner, value in secret_fields(model):
                if value and is_sandbox_secret(value, known):
                    path = (group, name, *inner)
                    problems.append(ConfigProblem(doc.file, doc.line_of(path), dotted(path),
                                                  "still the sandbox's default secret; live mode needs your own: set the "
                                                  "environment variable named on this line (or remove the section)"))
    return problems
