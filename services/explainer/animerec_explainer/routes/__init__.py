"""Routers of the explainer service, one module per resource."""
