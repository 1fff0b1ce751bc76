"""Dagster assets of one dataset: the contract side, the drift side, remediation, the model,
the approvals table; and the metadata they show."""
