"""One router module per resource: training runs and models."""
