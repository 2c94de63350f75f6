"""Representations: what a model sees of a curve (sequences, grids, dm–dt maps, images...)."""

from skyclass.represent.base import Representation, period_of

__all__ = ["Representation", "period_of"]
