"""Problem titles/details per stable error code, one module per area (each defines MESSAGES).

Adding an area: create `gateway/messages/<area>.py` with
`MESSAGES = {"code": {"vi": (title, detail), "en": (title, detail)}}` (detail None keeps the
service's own message). Codes must be unique across modules (a test checks).
"""

from __future__ import annotations

import importlib
import pkgutil


def area_catalogues() -> dict[str, dict[str, dict[str, tuple[str, str | None]]]]:
    """area module name -> its MESSAGES."""
    return {m.name: importlib.import_module(f"{__name__}.{m.name}").MESSAGES
            for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)}
