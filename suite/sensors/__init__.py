"""Sensors: files landing, failed checks, granted approvals, failed runs, late batches."""
