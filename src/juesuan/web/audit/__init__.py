"""The append-only, hash-chained audit log, and the masking of personal data."""
