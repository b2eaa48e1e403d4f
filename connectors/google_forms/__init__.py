"""Google Forms: signed submissions pushed by an Apps Script trigger to /hooks/forms/<form>,
fallback polling of the Forms API, answers converted through a mapping, pre-filled links.

Registered as the connector `forms` (`connectors.forms` in config.yaml); its events have source
`forms`, so rules say `when: {source: forms, kind: form.submitted}`.
"""
from connectors.google_forms import actions  # noqa: F401  (registers the actions)
from connectors.google_forms.connector import FormsConnector
from connectors.google_forms.settings import FormsSettings
from relay.registry import register_connector

register_connector("forms", FormsSettings, lambda settings, runtime: FormsConnector(settings, runtime))
