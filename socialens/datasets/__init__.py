"""Bundled demo data: the US Congress as an organization (see ``us_congress/SOURCES.md``).

``US_CONGRESS_DIR`` is a folder in the canonical interchange format (``docs/data_format.md``),
rebuilt from ``../shared/data`` by ``scripts/build_demo_dataset.py``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["US_CONGRESS_DIR"]

US_CONGRESS_DIR = Path(__file__).parent / "us_congress"
