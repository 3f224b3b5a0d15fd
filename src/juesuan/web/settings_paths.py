"""Paths decided before Django's settings are read (kept free of Django imports)."""

from __future__ import annotations

import os
from pathlib import Path


def demo_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "juesuan-demo"
