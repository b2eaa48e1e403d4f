"""Electronic documents (S20): Kontur.Diadoc and SBIS feeds as events of source `edo`."""
from connectors.edo.connector import EdoConnector
from connectors.edo.settings import EdoSettings
from relay.registry import register_connector

register_connector("edo", EdoSettings, lambda settings, runtime: EdoConnector(settings, runtime))
