"""The Open311 GeoReport v2 API, as plain Python over a SQLAlchemy session (no Flask).

- :mod:`open311.models`: API clients (hashed keys, revocation, rate limits), the
  rate-limit windows, and which client filed which request.
- :mod:`open311.clients`: issuing, listing, revoking and checking keys; counting hits.
- :mod:`open311.params`: the arguments of every method, checked as the spec words them.
- :mod:`open311.queries`: discovery, services, service definitions, requests, tokens.
- :mod:`open311.submit`: POST requests, through the one intake path
  (:func:`service_requests.intake.create_request`).
- :mod:`open311.serialize`: the spec's JSON and XML.
- :mod:`open311.openapi`: the OpenAPI document of the API.

The Flask blueprint (:mod:`app.web.open311`) only maps HTTP onto these.
"""
