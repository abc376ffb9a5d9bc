"""Service requests: the catalogue in the database, intake, routing, service levels,
lifecycle, duplicates, notifications and history import. Plain Python over a database
session: the web pages, the Open311 API and the command line all call it."""
