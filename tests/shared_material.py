"""Where the material shared beside the project lies: `../shared` next to the checkout (CI's fresh
clone links it there too). Tests that read it skip when it is absent."""

from __future__ import annotations

from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REAL_DOCUMENTS = SHARED / "data" / "real-documents"
