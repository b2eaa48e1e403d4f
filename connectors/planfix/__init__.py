"""Planfix: scenario requests at /hooks/planfix, REST v2 read-back and writes under a 1 request/s budget."""
from connectors.planfix import actions, actions_fields, actions_tasks  # noqa: F401  (register the actions)
from connectors.planfix.connector import PlanfixConnector
from connectors.planfix.settings import PlanfixSettings
from relay.registry import register_connector

register_connector("planfix", PlanfixSettings, lambda settings, runtime: PlanfixConnector(settings, runtime))
from connectors.planfix import contact_actions  # noqa: E402,F401  (planfix_contact_fields: contact custom fields)
from connectors.planfix import task_sync  # noqa: E402,F401  (planfix_sync_task: a task per outside object, S25)
