"""One router module per resource of the public and admin API."""
