"""Where juesuan keeps the user's own data (the web app's database, imported code tables, …)."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """JUESUAN_DATA_DIR, else $XDG_DATA_HOME/juesuan (~/.local/share/juesuan); not created here."""
    given = os.environ.get("JUESUAN_DATA_DIR", "").strip()
    if given:
        return Path(given).expanduser().absolute()
    base = os.environ.get("XDG_DATA_HOME", "").strip() or str(Path.home() / ".local" / "share")
    return (Path(base) / "juesuan").expanduser().absolute()
