"""Bank feeds: Tochka (webhooks, statements), T-Bank (statements), 1C files (upload, CLI).

Registered as the connector `bank` (`connectors.bank` in config.yaml), so its events have source
`bank` and rules say `when: {source: bank, kind: operation.incoming}`.
"""
from connectors.banks import cli
from connectors.banks.connector import BankConnector
from connectors.banks.settings import BankSettings
from relay.cli import register_command
from relay.registry import register_connector

register_connector("bank", BankSettings, lambda settings, runtime: BankConnector(settings, runtime))
register_command("bank", "bank statements: `bank import FILE` loads a 1C statement file", cli.add_arguments, cli.run)
