"""Representations: what a model sees of a curve (sequences, grids, dm–dt maps, images...).

Every representation follows :class:`~skyclass.represent.base.Representation`:
``transform(lc)`` gives fixed-shape float32 arrays keyed like the model batch
(``seq``, ``mask``, ``grid``, ``dmdt``, ``folded_image``, ``features``), and
``transform_many`` stacks them with a ``valid`` flag per object. Each one reads
a single curve only: no other object's data or label enters it.

Examples
--------
>>> sorted(REPRESENTATIONS)
['dmdt', 'features', 'grid', 'harmonic_grid', 'image', 'phase_sequence', 'sequence']
"""

from skyclass.represent.base import Representation, period_of
from skyclass.represent.dmdt import DmDt
from skyclass.represent.features import FeatureScaler, NumericFeatures
from skyclass.represent.grid import FoldedGrid, HarmonicGrid
from skyclass.represent.image import FoldedImage
from skyclass.represent.sequence import EpochSequence, PhaseSequence

#: Representations by the name ``skyclass represent --kind`` takes.
REPRESENTATIONS: dict[str, type[Representation]] = {
    cls.name: cls
    for cls in (
        EpochSequence,
        PhaseSequence,
        FoldedGrid,
        HarmonicGrid,
        DmDt,
        FoldedImage,
        NumericFeatures,
    )
}

__all__ = [
    "REPRESENTATIONS",
    "DmDt",
    "EpochSequence",
    "FeatureScaler",
    "FoldedGrid",
    "FoldedImage",
    "HarmonicGrid",
    "NumericFeatures",
    "PhaseSequence",
    "Representation",
    "period_of",
]
