"""Tree reports (S6) and the holding report (S24): YAML definitions over the store's snapshots."""
from connectors.reports import cli
from connectors.reports.connector import ReportsConnector
from connectors.reports.settings import ReportsSettings
from relay.cli import register_command
from relay.registry import register_connector

register_connector("reports", ReportsSettings, lambda settings, runtime: ReportsConnector(settings, runtime))
register_command("report", "a report over the deal tree or holdings as CSV/JSON (`report --list`)", cli.add_arguments, cli.run)
