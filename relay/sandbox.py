"""Sandbox mode: start the built-in emulators next to the relay, wired to its webhooks.

A newcomer runs `python app.py run` with the shipped config.yaml and sees the product work with no
accounts: a demo Bitrix24 portal on loopback sends its events to the relay, the relay writes back.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from emulators.common.server import RunningServer, serve_in_thread

if TYPE_CHECKING:
    from relay.runtime import Runtime

log = logging.getLogger("relay.sandbox")
BITRIX24_EVENTS = ["ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE", "ONCRMCOMPANYUPDATE", "ONCRMCONTACTUPDATE"]


def start_sandbox(runtime: "Runtime", relay_url: str) -> list[RunningServer]:
    """Start every emulator the config lists; returns them so the caller can stop them."""
    settings = runtime.config.settings.sandbox
    servers: list[RunningServer] = []
    if settings.bitrix24 is not None:
        from emulators.bitrix24 import create_app as create_portal
        seed = runtime.config.base_dir / settings.bitrix24.seed
        app = create_portal(seed=seed)
        server = serve_in_thread(app, port=settings.bitrix24.port)
        portal = app.extensions["bitrix24"]
        for event in BITRIX24_EVENTS:
            portal.add_handler(event, f"{relay_url}/hooks/bitrix24")
        servers.append(server)
        print(f"sandbox: Bitrix24 demo portal on {server.url} (webhook {server.url}/rest/1/{portal.config.webhook_code}/)", flush=True)
    return servers
