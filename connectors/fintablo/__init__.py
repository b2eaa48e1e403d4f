"""Fintablo: bank operations become transactions, CRM deals become deals (connector `fintablo`)."""
from connectors.fintablo import actions  # noqa: F401  (registers the actions)
from connectors.fintablo.connector import FintabloConnector
from connectors.fintablo.settings import FintabloSettings
from relay.registry import register_connector

register_connector("fintablo", FintabloSettings, lambda settings, runtime: FintabloConnector(settings, runtime))
