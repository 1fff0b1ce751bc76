"""The bad-input corpus: landed files that must each get their declared outcome (``outcomes.yaml``)."""
