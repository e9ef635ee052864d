"""The trainable models, selectable by name (see ``registry``)."""
