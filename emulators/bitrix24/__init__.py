"""A faithful local Bitrix24 portal: REST webhook transport, CRM data, limits and outgoing events.

    from emulators.bitrix24 import create_app
    from emulators.common.server import serve_in_thread
    with serve_in_thread(create_app("emulators/bitrix24/seeds/demo.yaml")) as srv:
        webhook = f"{srv.url}/rest/1/<code>/"

See docs/emulators/bitrix24.md.
"""
from .app import create_app
from .portal import DEFAULT_APPLICATION_TOKEN, DEFAULT_WEBHOOK_CODE, Portal, PortalConfig

DEMO_SEED = __file__.rsplit("/", 1)[0] + "/seeds/demo.yaml"

__all__ = ["create_app", "Portal", "PortalConfig", "DEFAULT_WEBHOOK_CODE", "DEFAULT_APPLICATION_TOKEN", "DEMO_SEED"]
