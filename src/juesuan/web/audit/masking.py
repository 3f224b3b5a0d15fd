"""Masking of personal data (身份证号, bank account numbers) in pages and logs.

Lists of people and payments show these numbers masked for every role; in full only on a
person's page when asked (`disbursement/person_views.py`, each look logged) and in an import's
error report to the roles that work with them (the value of the cell to correct). The audit log
stores masked text only. Plain regular
expressions suffice: the shapes are fixed (18-character 公民身份号码, 12–19-digit card/account).
"""

from __future__ import annotations

import re

# 18-character resident ID: 6-digit region, 8-digit birth date, 3-digit sequence, check digit/X.
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3})([\dXx])(?![0-9A-Za-z])")
# Bank card or account: 12 to 19 digits, optionally grouped by spaces or hyphens.
ACCOUNT = re.compile(r"(?<![0-9A-Za-z])(\d(?:[ -]?\d){11,18})(?![0-9A-Za-z])")


def mask_id_number(value: str | None) -> str:
    """510502199001011234 → 5105**********1234 (first 4 and last 4 kept)."""
    if not value:
        return ""
    text = str(value).strip()
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def mask_account(value: str | None) -> str:
    """6222021234567890123 → ************0123 (last 4 kept); spaces and hyphens dropped."""
    if not value:
        return ""
    digits = re.sub(r"[ -]", "", str(value).strip())
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_text(text: str | None) -> str:
    """Every ID number and account number inside free text, masked."""
    if not text:
        return text or ""
    text = ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), str(text))
    return ACCOUNT.sub(lambda m: mask_account(m.group(0)), text)


def mask_data(value):
    """mask_text over every string in a JSON-like structure."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {str(k): mask_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_data(v) for v in value]
    return value
