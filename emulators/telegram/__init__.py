"""Telegram Bot API emulator: the subset CRM Relay uses, with real error texts, limits and webhooks.

    app = create_app(seed="emulators/telegram/seeds/demo.yaml")
    state = app.extensions["telegram"]

See docs/emulators/telegram.md.
"""
from __future__ import annotations

from .app import create_app
from .clock import Clock
from .knobs import EmulatorSettings
from .limits import LimitSettings, Window
from .state import TelegramState

__all__ = ["Clock", "EmulatorSettings", "LimitSettings", "TelegramState", "Window", "create_app"]
