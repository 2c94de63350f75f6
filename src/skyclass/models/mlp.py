"""A multilayer perceptron on numeric features: the simplest baseline of the registry."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from skyclass.models.registry import register_model

__all__ = ["FeatureMLP"]


class FeatureMLP(nn.Module):
    """Dense layers with ReLU and dropout over ``features`` (masked entries already zero)."""

    def __init__(self, num_features: int, num_outputs: int, hidden: Sequence[int], dropout: float):
        super().__init__()
        layers: list[nn.Module] = []
        width = num_features
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


@register_model("mlp_features", input_keys=("features",), paper="baseline", task="both")
def mlp_features(
    *,
    num_outputs: int = 2,
    num_features: int = 8,
    hidden: Sequence[int] = (128, 64),
    dropout: float = 0.2,
) -> nn.Module:
    """Dense network on numeric features (log period, amplitude, Fourier ratios, colours...).

    Not from a seed paper: the baseline that tells how much the light-curve networks
    add over the features an astronomer would compute first.

    Examples
    --------
    >>> model = mlp_features(num_outputs=3, num_features=5)
    >>> model({"features": torch.zeros(2, 5)}).shape
    torch.Size([2, 3])
    """
    return FeatureMLP(num_features, num_outputs, tuple(hidden), float(dropout))
