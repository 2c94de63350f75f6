"""Image cutouts: FITS frames to stamps (``cutouts``) and simulated stamps (``simulate``).

Names are re-exported lazily, so ``import skyclass.images`` stays light until a
function is used.

Examples
--------
>>> import skyclass.images as images
>>> images.cut_from_frames.__module__
'skyclass.images.cutouts'
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> submodule that defines it.
_LAZY = {
    name: "cutouts"
    for name in (
        "Cutouts",
        "Frame",
        "cut_from_frames",
        "load_stamps",
        "lupton_rgb",
        "read_cutouts",
        "read_frame",
    )
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
