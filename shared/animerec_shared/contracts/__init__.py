"""The written contract between the services: every inter-service request and answer, in one place.

Pydantic models only (no numpy, no service code): the gateway documents and validates its public API
with the same models the recommender, explainer, training and ingestion services serve, so a field,
a bound or a strategy name is declared once.

* ``common``: the one error body, id bounds, strategy names, version pattern.
* ``recommender``: list queries and filters, list items, lists, anime detail, users, cold start,
  explanation facts, reload.
* ``explainer``: explanation requests and answers.
* ``training``: training runs, model versions, promotion.
* ``ingestion``: ingestion and processing jobs.
"""
