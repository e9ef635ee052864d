"""Explainer service: grounded explanations of recommendations, optionally worded by an LLM."""
