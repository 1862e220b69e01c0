"""Readers of case-system extracts (Annex A, the Standard Safeguarding Dataset) into a Scenario."""
