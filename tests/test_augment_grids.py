"""Grid augmentation of training batches: phase shift with bands together, masked noise."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skyclass.augment.grids import GridAugment, shift_phase


def _grid(b=5, c=2, n=16):
    g = torch.Generator().manual_seed(0)
    return torch.randn(b, c, n, generator=g)


def test_shift_rolls_every_band_of_a_curve_by_the_same_phase():
    grid = _grid()
    mask = (grid > 0).float()
    shifted, moved = shift_phase(grid, mask, generator=torch.Generator().manual_seed(3))
    found = set()
    for i in range(grid.shape[0]):
        shifts = [k for k in range(16) if torch.equal(torch.roll(grid[i], -k, dims=1), shifted[i])]
        assert len(shifts) == 1  # one shift for both bands: colours stay in phase
        assert torch.equal(torch.roll(mask[i], -shifts[0], dims=1), moved[i])
        found.add(shifts[0])
    assert len(found) > 1  # each curve draws its own shift


def test_the_same_generator_state_gives_the_same_batch():
    hook = GridAugment(noise=0.1)
    batch = {"grid": _grid()}
    a = hook(batch, torch.Generator().manual_seed(7))["grid"]
    b = hook(batch, torch.Generator().manual_seed(7))["grid"]
    c = hook(batch, torch.Generator().manual_seed(8))["grid"]
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_noise_has_the_asked_scale_and_spares_masked_phases():
    grid = torch.zeros(200, 1, 64)
    mask = torch.ones_like(grid)
    mask[:, :, :32] = 0
    out = GridAugment(phase_shift=False, noise=0.2)(
        {"grid": grid, "grid_mask": mask}, torch.Generator().manual_seed(0)
    )
    noise = out["grid"][:, :, 32:].numpy()
    assert np.std(noise) == pytest.approx(0.2, rel=0.05)
    assert torch.count_nonzero(out["grid"][:, :, :32]) == 0


def test_refusals():
    with pytest.raises(ValueError, match="noise must be >= 0"):
        GridAugment(noise=-1.0)
    with pytest.raises(KeyError, match="'grid' input"):
        GridAugment()({"features": torch.zeros(2, 3)}, torch.Generator())
