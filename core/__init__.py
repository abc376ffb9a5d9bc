"""The kernel every layer may use: settings, errors, the city file, the database and its cluster.

Nothing here imports another package of geo311, Flask or Werkzeug:

- :mod:`core.settings`: the process's settings from the environment;
- :mod:`core.errors`: the errors a person can act on;
- :mod:`core.city`: a city file, parsed and checked (:mod:`core.catalogue_file` its
  ``[[departments]]`` and ``[[services]]``, :mod:`core.channels` its channel vocabulary);
- :mod:`core.database`, :mod:`core.cluster`: the database, embedded or on a server;
- :mod:`core.caching`, :mod:`core.ratelimit`: caches keyed by data versions, shared rate limits;
- :mod:`core.states`: the request states and response methods, one vocabulary for every city;
- :mod:`core.text`, :mod:`core.csv_files`, :mod:`core.spreadsheets`: reading and writing text,
  CSV data files and formula-safe exports.
"""
