"""Calendar feeds (S21): CRM dates as iCal at secret addresses, from the store's snapshots."""
from connectors.calendar.connector import CalendarConnector
from connectors.calendar.settings import CalendarSettings
from relay.registry import register_connector

register_connector("calendar", CalendarSettings, lambda settings, runtime: CalendarConnector(settings, runtime))
