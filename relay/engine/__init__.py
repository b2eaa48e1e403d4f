"""Rules: when something happens, what to do."""
