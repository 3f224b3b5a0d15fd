"""Statements: a disclosure format's tables evaluated over a dataset (see docs.md)."""
