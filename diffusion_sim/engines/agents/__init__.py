"""The Mesa model: one agent per city and per government."""
