"""Time reports (S23): tracked time per employee and project from Planfix, by half-month."""
from connectors.time_reports.connector import TimeReportsConnector
from connectors.time_reports.settings import TimeReportsSettings
from relay.registry import register_connector

register_connector("time_reports", TimeReportsSettings, lambda settings, runtime: TimeReportsConnector(settings, runtime))
