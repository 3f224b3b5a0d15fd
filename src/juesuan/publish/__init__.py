"""Publish: renderers and the disclosure package (see docs.md)."""
