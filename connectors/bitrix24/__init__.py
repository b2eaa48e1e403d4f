"""Bitrix24: outgoing-webhook intake, REST read-back through fast-bitrix24, linked-deal actions."""
from connectors.bitrix24 import actions  # noqa: F401  (registers the actions)
from connectors.bitrix24 import payment_requests  # noqa: F401  (payment-request actions, the payment_requests connector)
from connectors.bitrix24 import payments_actions  # noqa: F401  (match_payment; the deal directory of payments)
from connectors.bitrix24.connector import Bitrix24Connector
from connectors.bitrix24.settings import Bitrix24Settings
from relay.registry import register_connector

register_connector("bitrix24", Bitrix24Settings, lambda settings, runtime: Bitrix24Connector(settings, runtime))
from connectors.bitrix24 import timeline  # noqa: E402,F401  (bitrix24_timeline_comment)
