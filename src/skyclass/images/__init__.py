"""Image cutouts: the :class:`Cutouts` container and its files (``cutouts``), FITS frames
(``frames``) and the stamps cut from them (``cut``), Lupton RGB composites (``rgb``),
ready-made stamp arrays (``stamps``) and simulated stamps (``simulate``).

Names are re-exported lazily, so ``import skyclass.images`` stays light until a
function is used.

Examples
--------
>>> import skyclass.images as images
>>> images.cut_from_frames.__module__
'skyclass.images.cut'
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> submodule that defines it.
_LAZY = {
    "Cutouts": "cutouts",
    "read_cutouts": "cutouts",
    "Frame": "frames",
    "read_frame": "frames",
    "cut_from_frames": "cut",
    "lupton_rgb": "rgb",
    "load_stamps": "stamps",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
