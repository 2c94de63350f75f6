"""foldnet: the recommended network's training-mode dropouts and its refusals."""

from __future__ import annotations

import pytest
import torch

from skyclass.models import create_model


def _batch(b=6, c=2, n=32, f=5):
    g = torch.Generator().manual_seed(0)
    return {
        "grid": torch.randn(b, c, n, generator=g),
        "grid_mask": torch.ones(b, c, n),
        "features": torch.randn(b, f, generator=g),
        "features_mask": torch.ones(b, f),
    }


def test_eval_is_deterministic_and_training_drops_out():
    torch.manual_seed(0)
    model = create_model("foldnet", num_outputs=3, in_channels=2, length=32, num_features=5)
    batch = _batch()
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(batch), model(batch))
    model.train()
    with torch.no_grad():
        assert not torch.equal(model(batch), model(batch))


def test_wrong_input_shapes_name_the_option_to_set():
    model = create_model("foldnet", in_channels=2, length=32, num_features=5).eval()
    batch = _batch(c=1)
    with pytest.raises(ValueError, match="set in_channels and length"):
        model(batch)
    with pytest.raises(ValueError, match="set num_features"):
        model(_batch(f=4))
