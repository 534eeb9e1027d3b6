"""Canonical data models: the hub's own, documented shape of each record a federation exchanges (members,
clubs, licences, invoices, payments…). Intake routes take them, recipes map legacy files onto them, and their
field-level history is generated from the committed schema releases (canonical/releases/). Only pydantic and
pycountry here: routes, adapters, recipes and tools import this package, never the other way round."""
