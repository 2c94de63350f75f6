"""Feature-based models: an MLP on numeric features, and a folded-grid CNN joined with it."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from skyclass.models.registry import register_model

__all__ = ["FeatureMLP", "GridFeatureNet", "PeriodicEmbedding"]


class PeriodicEmbedding(nn.Module):
    """Each numeric feature to ``width`` numbers through learned periodic functions.

    The "PLR" embedding of Gorishniy, Rubachev & Babenko (2022, "On Embeddings for
    Numerical Features in Tabular Deep Learning"): feature ``x_j`` becomes
    ``ReLU(W [sin 2πc_j x_j, cos 2πc_j x_j])`` with ``k`` learned frequencies
    ``c_j`` per feature (drawn from N(0, ``sigma``²) at the start) and one linear map
    ``W`` shared by the features. It lets a dense network draw the sharp,
    feature-wise thresholds that make decision trees strong on tabular data.

    Examples
    --------
    >>> emb = PeriodicEmbedding(num_features=3, width=8)
    >>> emb(torch.zeros(2, 3)).shape
    torch.Size([2, 24])
    """

    def __init__(self, num_features: int, width: int, k: int = 16, sigma: float = 0.5):
        super().__init__()
        self.frequencies = nn.Parameter(sigma * torch.randn(num_features, k))
        self.linear = nn.Linear(2 * k, width)
        self.width = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        angle = 2 * torch.pi * self.frequencies * x[..., None]  # (B, F, k)
        z = torch.relu(self.linear(torch.cat([torch.sin(angle), torch.cos(angle)], dim=-1)))
        return z.flatten(1)


class FeatureMLP(nn.Module):
    """Dense layers with ReLU and dropout over ``features`` (masked entries already zero)."""

    def __init__(
        self,
        num_features: int,
        num_outputs: int,
        hidden: Sequence[int],
        dropout: float,
        embedding: int = 0,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        width = num_features
        if embedding:
            layers.append(PeriodicEmbedding(num_features, embedding))
            width = num_features * embedding
        for units in hidden:
            layers += [nn.Linear(width, units), nn.ReLU(), nn.Dropout(dropout)]
            width = units
        layers.append(nn.Linear(width, num_outputs))
        self.net = nn.Sequential(*layers)
        self.num_features = num_features

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x = batch["features"]
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(
                f"batch['features'] has shape {tuple(x.shape)}; this model was built for "
                f"(B, {self.num_features}) (set num_features to match the representation)"
            )
        return self.net(x)


@register_model(
    "mlp_features",
    input_keys=("features",),
    paper="baseline",
    task="both",
    inputs={"features": {"features": "all"}},
    shapes={"num_features": ("features", 1)},
)
def mlp_features(
    *,
    num_outputs: int = 2,
    num_features: int = 8,
    hidden: Sequence[int] = (128, 64),
    dropout: float = 0.2,
    embedding: int = 0,
) -> nn.Module:
    """Dense network on numeric features (log period, amplitude, Fourier ratios, colours...).

    Not from a seed paper: the baseline that tells how much the light-curve networks
    add over the features an astronomer would compute first. ``embedding`` > 0 first
    maps each feature to that many numbers (:class:`PeriodicEmbedding`).

    Examples
    --------
    >>> model = mlp_features(num_outputs=3, num_features=5)
    >>> model({"features": torch.zeros(2, 5)}).shape
    torch.Size([2, 3])
    """
    return FeatureMLP(num_features, num_outputs, tuple(hidden), float(dropout), int(embedding))


class GridFeatureNet(nn.Module):
    """A small 1D CNN on folded grids joined with a dense branch on numeric features."""

    def __init__(
        self,
        *,
        num_outputs: int,
        in_channels: int,
        length: int,
        num_features: int,
        filters: Sequence[int],
        hidden: Sequence[int],
        dropout: float,
    ):
        super().__init__()
        convs: list[nn.Module] = []
        width = in_channels
        for f in filters:
            convs += [
                nn.Conv1d(width, f, 5, padding=2, padding_mode="circular"),  # phase wraps
                nn.BatchNorm1d(f),
                nn.ReLU(),
                nn.MaxPool1d(2),
            ]
            width = f
        self.cnn = nn.Sequential(*convs, nn.AdaptiveAvgPool1d(1), nn.Flatten())
        self.mlp = FeatureMLP(num_features, hidden[-1], hidden[:-1], dropout)
        self.head = nn.Sequential(
            nn.ReLU(), nn.Dropout(dropout), nn.Linear(width + hidden[-1], num_outputs)
        )
        self.in_channels, self.length = in_channels, length

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        grid = batch["grid"]
        if grid.ndim != 3 or tuple(grid.shape[1:]) != (self.in_channels, self.length):
            raise ValueError(
                f"batch['grid'] has shape {tuple(grid.shape)}; this model was built for "
                f"(B, {self.in_channels}, {self.length})"
            )
        if "grid_mask" in batch:
            grid = grid * batch["grid_mask"]
        return self.head(torch.cat([self.cnn(grid), self.mlp(batch)], dim=1))


@register_model(
    "grid_features",
    input_keys=("grid", "grid_mask", "features"),
    paper="skyclass",
    task="both",
    inputs={"grid": {"n": 128, "normalize": "standard"}, "features": {"features": "all"}},
    shapes={"in_channels": ("grid", 1), "length": ("grid", 2), "num_features": ("features", 1)},
)
def grid_features(
    *,
    num_outputs: int = 2,
    in_channels: int = 1,
    length: int = 128,
    num_features: int = 8,
    filters: Sequence[int] = (32, 64, 64),
    hidden: Sequence[int] = (128, 64),
    dropout: float = 0.2,
) -> nn.Module:
    """Folded-curve CNN plus feature MLP, joined before the output layer (not a seed paper).

    The grid branch sees the shape of the folded curve (circular padding, since phase
    wraps around); the feature branch sees the period, amplitudes, Fourier ratios and
    any light-curve extractors; both are learned together.

    Examples
    --------
    >>> model = grid_features(num_outputs=4, in_channels=2, length=64, num_features=5)
    >>> batch = {"grid": torch.zeros(3, 2, 64), "features": torch.zeros(3, 5)}
    >>> model(batch).shape
    torch.Size([3, 4])
    """
    return GridFeatureNet(
        num_outputs=num_outputs,
        in_channels=in_channels,
        length=length,
        num_features=num_features,
        filters=tuple(filters),
        hidden=tuple(hidden),
        dropout=float(dropout),
    )
