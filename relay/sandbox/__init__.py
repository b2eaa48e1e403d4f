"""Sandbox mode: the relay with every outside system replaced by a local emulator holding demo data.

`python app.py run` (with `mode: sandbox`) and `python app.py sandbox` start the emulators listed
under `sandbox:` in config.yaml, point the connectors at them and wire the emulators' outgoing
webhooks to the relay; `python app.py sandbox --demo` walks the demo stories. See docs/sandbox.md.

The emulator list is data (`relay.sandbox.emulators`): adding a system is one `EmulatorSpec`, and
adding a demo story is a few more `Step`s listed in `relay.sandbox.demo.steps()`.
"""
from __future__ import annotations

from relay.sandbox import builtin  # noqa: F401  (registers the shipped emulators)
from relay.sandbox.emulators import EMULATORS, EmulatorSpec, register_emulator

__all__ = ["EMULATORS", "EmulatorSpec", "register_emulator"]
