"""Scoring: a pure function of Zoom's documents, the items' rules and the meetings' checks."""
