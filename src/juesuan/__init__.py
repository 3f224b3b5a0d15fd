"""juesuan (决算): a unit's budget and final accounts, its benefit payments, and the disclosure."""

__version__ = "0.1.0"
