"""Training-time changes of folded-curve grids, batch by batch: phase shift and noise.

A folded curve's phase origin is arbitrary (the epoch of the fold), so a network
reading :class:`~skyclass.represent.FoldedGrid` should not care where the
maximum falls; shifting every training curve by a random phase teaches it that,
and Gaussian noise on the (standardised or centred) grid keeps it from fitting
the grid's interpolation artefacts. :class:`GridAugment` is the
``augment(inputs, generator)`` hook of :class:`~skyclass.training.Trainer`:
it changes the training batches only, never validation or prediction, and draws
from the trainer's generator (seeded per epoch, so a resumed run repeats it).

Every band of a curve is shifted by the same phase, so the bands stay in phase
with each other; the mask (``grid_mask``) moves with its values.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["GridAugment", "shift_phase"]


def shift_phase(
    grid: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Roll every curve of a (B, bands, n) grid by its own random whole number of phase steps.

    Parameters
    ----------
    grid : Tensor
        (B, C, n) folded curves, C bands on n phases.
    mask : Tensor, optional
        (B, C, n) grid mask, rolled with the values.
    generator : torch.Generator, optional
        Source of the shifts (torch's global generator when None).

    Returns
    -------
    grid, mask : Tensor
        The shifted grid and mask (the mask None when none was given).

    Examples
    --------
    >>> grid = torch.arange(8.0).reshape(1, 2, 4)
    >>> shifted, _ = shift_phase(grid, generator=torch.Generator().manual_seed(1))
    >>> (shifted[0, 1] - shifted[0, 0]).tolist()  # the bands moved together
    [4.0, 4.0, 4.0, 4.0]
    """
    b, _, n = grid.shape
    shift = torch.randint(0, n, (b, 1, 1), generator=generator).to(grid.device)
    index = ((torch.arange(n, device=grid.device).view(1, 1, n) + shift) % n).expand_as(grid)
    return grid.gather(2, index), None if mask is None else mask.gather(2, index)


@dataclass(frozen=True)
class GridAugment:
    """The trainer hook that shifts and noises the ``grid`` input of every training batch.

    Parameters
    ----------
    phase_shift : bool
        Roll each curve by a random phase (:func:`shift_phase`).
    noise : float
        Standard deviation of the Gaussian noise added to the grid values, in the
        grid's units (0: none). Only where ``grid_mask`` is 1 when it is given.

    Examples
    --------
    >>> hook = GridAugment(noise=0.0)
    >>> batch = {"grid": torch.arange(4.0).reshape(1, 1, 4), "features": torch.ones(1, 3)}
    >>> out = hook(batch, torch.Generator().manual_seed(0))
    >>> sorted(out["grid"][0, 0].tolist()), out["features"] is batch["features"]
    ([0.0, 1.0, 2.0, 3.0], True)
    """

    phase_shift: bool = True
    noise: float = 0.05

    def __post_init__(self) -> None:
        if not self.noise >= 0:
            raise ValueError(f"noise must be >= 0, got {self.noise}")

    def __call__(
        self, inputs: dict[str, torch.Tensor], generator: torch.Generator
    ) -> dict[str, torch.Tensor]:
        if "grid" not in inputs:
            raise KeyError(
                f"GridAugment changes the 'grid' input, and this batch has only {sorted(inputs)}"
            )
        grid, mask = inputs["grid"], inputs.get("grid_mask")
        if self.phase_shift:
            grid, mask = shift_phase(grid, mask, generator=generator)
        if self.noise > 0:
            noise = self.noise * torch.randn(grid.shape, generator=generator, dtype=grid.dtype)
            grid = grid + (noise if mask is None else noise * mask)
        out = {**inputs, "grid": grid}
        if mask is not None:
            out["grid_mask"] = mask
        return out
