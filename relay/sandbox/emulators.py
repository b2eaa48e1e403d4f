"""What the sandbox knows about each emulator: how to build it, how the config points at it, how it
reaches the relay. One `EmulatorSpec` per key under `sandbox:` in config.yaml.

A new system (Planfix, when its connector lands) is one `register_emulator(EmulatorSpec(...))`: the
sandbox starts, points, wires and stops it like the others, with no change elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from flask import Flask
from pydantic import BaseModel

# build(seed file or None for the emulator's demo seed, the connector's settings or None) → the app.
Build = Callable[[Path | None, Any], Flask]
# point(connector settings, emulator URL, app) → the same settings aimed at the emulator.
Point = Callable[[Any, str, Flask], Any]
# wire(app, emulator URL, relay URL, connector settings or None) → lines saying what now reaches the relay.
Wire = Callable[[Flask, str, str, Any], list[str]]


@dataclass(frozen=True)
class EmulatorSpec:
    """One emulator the sandbox can run. Only `name`, `title` and `build` are required."""

    name: str                      # the key under `sandbox:` in config.yaml
    title: str                     # what it stands in for, shown at start and in docs/sandbox.md
    build: Build
    connector: str = ""            # the `connectors:` key whose settings `point` rewrites ("" = none)
    point: Point | None = None
    wire: Wire | None = None
    describe: Callable[[Flask, str], str] | None = None   # extra words for the start-up line (a REST URL, a bot name)
    close: Callable[[Flask], None] | None = None          # stop the emulator's own threads (webhook senders)
    # Credentials of the emulator's demo seed. A live config that still holds one of them is refused.
    demo_secrets: tuple[str, ...] = field(default=())


EMULATORS: dict[str, EmulatorSpec] = {}


def register_emulator(spec: EmulatorSpec) -> None:
    EMULATORS[spec.name] = spec


def demo_secrets() -> set[str]:
    return {secret for spec in EMULATORS.values() for secret in spec.demo_secrets}


def section(settings: BaseModel | None, name: str) -> Any:
    """A sub-section of a connector's settings (`bank.tochka`), or None when absent."""
    return getattr(settings, name, None) if settings is not None else None


def with_section(settings: BaseModel, name: str, **update: Any) -> BaseModel:
    """`settings` with fields of its sub-section `name` replaced (pydantic models are copied, not changed)."""
    inner = getattr(settings, name)
    return settings.model_copy(update={name: inner.model_copy(update=update)})
