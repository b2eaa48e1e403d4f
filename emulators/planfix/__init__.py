"""Planfix REST v2 emulator: `create_app()` and `python -m emulators.planfix --port N`."""
from .app import DEFAULT_TOKEN, create_app
from .clock import ManualClock, SystemClock

__all__ = ["DEFAULT_TOKEN", "ManualClock", "SystemClock", "create_app"]
