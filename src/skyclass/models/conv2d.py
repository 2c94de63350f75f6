"""Two-dimensional convolutional models on dm–dt maps: carraro2025's 2D-CNN.

The model reads ``dmdt`` (B, bands, n_dm, n_dt) from
:class:`~skyclass.represent.dmdt.DmDt` (``DmDt.carraro2025()`` gives 11 × 22
maps) and returns class logits.
"""

from __future__ import annotations

import torch
from torch import nn

from skyclass.models.registry import register_model

__all__ = ["carraro2025_cnn2d"]

CARRARO2025 = "Carraro (2025), thesis: LSTM and 2D-CNN classification of ZTF variable stars"


def _positive_int(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


class Carraro2025CNN2D(nn.Module):
    """Conv2D 64 (3×3) → 128 (5×5) → pool → 256 (5×5) → 256 (5×5) → pool → FC 1024 → 512."""

    def __init__(
        self,
        *,
        num_outputs: int,
        in_channels: int,
        height: int,
        width: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.shape = (in_channels, height, width)
        h, w = height // 4, width // 4
        if h < 1 or w < 1:
            raise ValueError(
                f"a {height}×{width} map is too small for two 2×2 poolings (needs at least 4×4)"
            )
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 64, 3, padding="same"),
            nn.ReLU(),
            nn.Conv2d(64, 128, 5, padding="same"),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(128, 256, 5, padding="same"),
            nn.ReLU(),
            nn.Conv2d(256, 256, 5, padding="same"),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(256 * h * w, 1024),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(1024, 512),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(512, num_outputs),
        )

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x = batch["dmdt"]
        if tuple(x.shape[1:]) != self.shape:
            raise ValueError(
                f"batch['dmdt'] has shape {tuple(x.shape)}; this model was built for "
                f"(B, {', '.join(map(str, self.shape))}) (set in_channels, height and width "
                "to match the representation)"
            )
        return self.head(self.features(x))


@register_model(
    "carraro2025_cnn2d",
    input_keys=("dmdt",),
    paper=CARRARO2025,
    task="classification",
    train={"lr": 2e-4},  # the thesis's Adam rate; without batch norm it collapses at 3e-3
    inputs={"dmdt": {"preset": "carraro2025"}},
    shapes={"in_channels": ("dmdt", 1), "height": ("dmdt", 2), "width": ("dmdt", 3)},
)
def carraro2025_cnn2d(
    *,
    num_outputs: int = 5,
    in_channels: int = 1,
    height: int = 11,
    width: int = 22,
    dropout: float = 0.0,
) -> nn.Module:
    """The 2D-CNN of carraro2025 (section 3.2.2, Table 3) on a dm–dt map.

    Thesis: Conv2D 64 (3×3) → Conv2D 128 (5×5) → MaxPool 2×2 → Conv2D 256 (5×5) →
    Conv2D 256 (5×5) → MaxPool 2×2 → FC 1024 (ReLU) → FC 512 (ReLU) → linear output
    with softmax. Adam 2e-4, 100 epochs. Input: ``|Δm|`` in 11 bins × Δt in 22 bins
    (:meth:`~skyclass.represent.dmdt.DmDt.carraro2025`).

    Parameters
    ----------
    num_outputs : int
        Classes (the thesis: 5 or 10). The output is logits.
    in_channels : int
        Bands of ``dmdt`` (one dm–dt map per band).
    height, width : int
        ``n_dm`` and ``n_dt`` of the map (the thesis grid: 11 × 22). They fix the
        flattened size.
    dropout : float
        The thesis names no dropout (0 by default); when set, applied after each
        hidden FC layer.

    Returns
    -------
    torch.nn.Module
        Maps ``{"dmdt": (B, in_channels, height, width)}`` to (B, num_outputs).

    Notes
    -----
    The thesis gives no padding or convolution activation. Unpadded 5×5 kernels
    would shrink an 11×22 map to nothing (11 → 9 → 5 → pool 2 → fails), so every
    convolution uses 'same' padding: 11×22 → pool → 5×11 → pool → 2×5, flattened
    to 256 × 2 × 5 = 2,560 features. ReLU follows each convolution (our choice,
    as the FC layers); pooling floors odd sizes.
    """
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    return Carraro2025CNN2D(
        num_outputs=_positive_int("num_outputs", num_outputs),
        in_channels=_positive_int("in_channels", in_channels),
        height=_positive_int("height", height),
        width=_positive_int("width", width),
        dropout=float(dropout),
    )
