"""skyclass's recommended light-curve classifier: folded multi-band curves plus numeric features.

:func:`foldnet` reads two inputs that each come from one curve alone: the curve
folded on its period and resampled to a phase grid, one row per band
(:class:`~skyclass.represent.FoldedGrid`, each row standardised, so the branch
sees shape only), and the numeric features of
:class:`~skyclass.represent.NumericFeatures` (log period, amplitudes, colour,
Fourier ratios...) scaled through their training quantiles. The grid goes through
a small residual 1D CNN with circular padding (phase wraps around) and global
average and max pooling; the features through a dense branch; the two are joined
before the output layer.

The grid is augmented in training by the trainer, batch by batch
(:class:`skyclass.augment.grids.GridAugment`, which
:class:`~skyclass.estimator.LightCurveClassifier` turns on for this model): each
curve is shifted by a random phase (the origin of a fold is arbitrary) and
receives Gaussian noise. The network itself adds two dropouts in training mode:
with probability ``grid_dropout`` a curve's whole grid branch is silenced, so that
the network learns to use the features too instead of leaning on the branch that
fits the training curves fastest; and with probability ``feature_dropout`` each
numeric feature is hidden as a missing one would be. Neither happens in ``eval``
mode, so predictions are deterministic.
``benchmarks/foldnet_ablation.py`` measures what each choice is worth, and
``benchmarks/dl_vs_forest.py`` the network against the random forest.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from skyclass.models.mlp import PeriodicEmbedding
from skyclass.models.registry import register_model

__all__ = ["CURVE_ONLY", "TRAIN", "FoldNet", "foldnet"]


class _ResidualBlock(nn.Module):
    """Two circular convolutions with a skip connection; ``stride`` 2 halves the length."""

    def __init__(self, width_in: int, width_out: int, kernel: int, stride: int, dropout: float):
        super().__init__()
        pad = kernel // 2
        self.body = nn.Sequential(
            nn.Conv1d(width_in, width_out, kernel, stride, pad, padding_mode="circular"),
            nn.BatchNorm1d(width_out),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Conv1d(width_out, width_out, kernel, 1, pad, padding_mode="circular"),
            nn.BatchNorm1d(width_out),
        )
        self.skip = (
            nn.Identity()
            if width_in == width_out and stride == 1
            else nn.Sequential(nn.Conv1d(width_in, width_out, 1, stride), nn.BatchNorm1d(width_out))
        )
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.skip(x))


class FoldNet(nn.Module):
    """Folded-grid residual CNN and numeric-feature branch, joined before the output layer."""

    def __init__(
        self,
        *,
        num_outputs: int,
        in_channels: int,
        length: int,
        num_features: int,
        filters: Sequence[int],
        kernel: int,
        hidden: int,
        dropout: float,
        feature_dropout: float,
        embedding: int,
        grid_dropout: float,
    ):
        super().__init__()
        self.in_channels, self.length, self.num_features = in_channels, length, num_features
        self.feature_dropout, self.grid_dropout = feature_dropout, grid_dropout
        # the mask rows go in beside the values: a band without data is not a flat curve
        stem = filters[0]
        self.stem = nn.Sequential(
            nn.Conv1d(2 * in_channels, stem, kernel, padding=kernel // 2, padding_mode="circular"),
            nn.BatchNorm1d(stem),
            nn.GELU(),
        )
        blocks, width = [], stem
        for f in filters:
            blocks.append(_ResidualBlock(width, f, kernel, 2, dropout))
            width = f
        self.blocks = nn.Sequential(*blocks)
        self.grid_out = nn.Sequential(nn.Linear(2 * width, hidden), nn.GELU())
        self.embed = PeriodicEmbedding(num_features, embedding) if embedding else None
        width_in = num_features * (embedding or 1) + num_features
        self.features = nn.Sequential(
            nn.Linear(width_in, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.GELU(),
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * hidden, num_outputs))

    def _check(self, batch: dict[str, torch.Tensor]) -> None:
        grid, feats = batch["grid"], batch["features"]
        if grid.ndim != 3 or tuple(grid.shape[1:]) != (self.in_channels, self.length):
            raise ValueError(
                f"batch['grid'] has shape {tuple(grid.shape)}; this model was built for "
                f"(B, {self.in_channels}, {self.length}) (set in_channels and length to match "
                "the grid representation's bands and n)"
            )
        if feats.ndim != 2 or feats.shape[1] != self.num_features:
            raise ValueError(
                f"batch['features'] has shape {tuple(feats.shape)}; this model was built for "
                f"(B, {self.num_features}) (set num_features to match the representation)"
            )

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        self._check(batch)
        grid, feats = batch["grid"], batch["features"]
        mask = batch.get("grid_mask", torch.ones_like(grid))
        fmask = batch.get("features_mask", torch.ones_like(feats))
        if self.training and self.feature_dropout > 0:  # hide features as if missing
            keep = (torch.rand_like(feats) >= self.feature_dropout).to(feats.dtype)
            feats, fmask = feats * keep, fmask * keep
        x = self.blocks(self.stem(torch.cat([grid * mask, mask], dim=1)))
        g = self.grid_out(torch.cat([x.mean(dim=2), x.amax(dim=2)], dim=1))
        if self.training and self.grid_dropout > 0:  # whole-branch dropout: no leaning on one
            keep = torch.rand(g.shape[0], 1, device=g.device) >= self.grid_dropout
            g = g * keep.to(g.dtype)
        values = feats * fmask
        if self.embed is not None:
            values = self.embed(values) * fmask.repeat_interleave(self.embed.width, dim=1)
        f = self.features(torch.cat([values, fmask], dim=1))
        return self.head(torch.cat([g, f], dim=1))


#: How foldnet trains: AdamW with weight decay, 3 warm-up epochs then cosine decay over
#: all 40 epochs (no early stop: the schedule needs its end), label smoothing; the
#: estimator keeps the epoch of lowest validation loss.
TRAIN = {
    "max_epochs": 40,
    "optimizer": "adamw",
    "weight_decay": 1e-2,
    "scheduler": "cosine_warmup",
    "warmup_epochs": 3,
    "label_smoothing": 0.1,
    "early_stopping_patience": None,
}


#: :class:`~skyclass.estimator.LightCurveClassifier` keywords of foldnet without any
#: extracted feature: the folded curve in every band (its mean removed, its amplitude
#: kept) plus the log period alone, and no grid dropout (the grid is all there is).
CURVE_ONLY = {
    "representations": {
        "grid": {"n": 128, "normalize": "center", "cycles": 2},
        "features": {"features": ["log_period"]},
    },
    "model_options": {"grid_dropout": 0.0},
}


@register_model(
    "foldnet",
    input_keys=("grid", "grid_mask", "features", "features_mask"),
    paper="skyclass",
    task="both",
    train=TRAIN,
    augment={"phase_shift": True, "noise": 0.05},
    inputs={
        "grid": {"n": 128, "normalize": "standard", "cycles": 2},
        "features": {"features": "all"},
    },
    shapes={"in_channels": ("grid", 1), "length": ("grid", 2), "num_features": ("features", 1)},
)
def foldnet(
    *,
    num_outputs: int = 2,
    in_channels: int = 1,
    length: int = 128,
    num_features: int = 8,
    filters: Sequence[int] = (32, 64, 96),
    kernel: int = 5,
    hidden: int = 64,
    dropout: float = 0.2,
    feature_dropout: float = 0.0,
    embedding: int = 8,
    grid_dropout: float = 0.5,
) -> nn.Module:
    """skyclass's recommended light-curve network (not from a seed paper).

    Parameters
    ----------
    num_outputs : int
        Classes (logits) or regression targets.
    in_channels, length : int
        Bands and phases of the ``grid`` input.
    num_features : int
        Columns of the ``features`` input.
    filters : sequence of int
        Widths of the residual blocks, each halving the phase resolution.
    kernel : int
        Convolution width in phase steps.
    hidden : int
        Width of each branch's output and of the dense branch.
    dropout : float
    feature_dropout : float
        Probability that a training feature is hidden (set to missing).
    embedding : int
        Numbers per feature of the :class:`~skyclass.models.mlp.PeriodicEmbedding`
        (0: the scaled features as they are).
    grid_dropout : float
        Probability that a training curve's whole grid branch is silenced, so that
        the network cannot lean on one input alone.

    Examples
    --------
    >>> model = foldnet(num_outputs=4, in_channels=2, length=64, num_features=5)
    >>> batch = {"grid": torch.zeros(3, 2, 64), "features": torch.zeros(3, 5)}
    >>> model.eval()(batch).shape
    torch.Size([3, 4])
    """
    return FoldNet(
        num_outputs=num_outputs,
        in_channels=in_channels,
        length=length,
        num_features=num_features,
        filters=tuple(filters),
        kernel=int(kernel),
        hidden=int(hidden),
        dropout=float(dropout),
        feature_dropout=float(feature_dropout),
        embedding=int(embedding),
        grid_dropout=float(grid_dropout),
    )
