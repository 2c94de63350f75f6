"""One contract for every registered model: shapes, finiteness, a learning step, save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skyclass.models import create_model, get_model_spec, list_models
from skyclass.models.io import load_model, save_model

B, L = 4, 40
# full-size image backbones (10^7-10^8 weights) take seconds each to build and step on a CPU
HEAVY = {"vgg16", "vit_b16", "gao2023_resnet50_gqs"}


def _batch(model) -> dict[str, torch.Tensor]:
    """A random batch shaped for ``model`` from its recorded config (seeded)."""
    g = torch.Generator().manual_seed(0)
    cfg = model.config
    batch: dict[str, torch.Tensor] = {}
    for key in model.input_keys:
        if key == "seq":
            channels = cfg.get("seq_channels", 3)
            batch["seq"] = torch.randn(B, L, channels, generator=g)
        elif key == "mask":
            mask = torch.ones(B, L)
            mask[1, 30:] = 0  # one padded row
            batch["mask"] = mask
        elif key == "features":
            batch["features"] = torch.randn(B, cfg["num_features"], generator=g)
        elif key == "features_mask":
            batch["features_mask"] = torch.ones(B, cfg["num_features"])
        elif key == "grid":
            batch["grid"] = torch.randn(B, cfg["in_channels"], cfg["length"], generator=g)
        elif key == "grid_mask":
            batch["grid_mask"] = torch.ones(B, cfg["in_channels"], cfg["length"])
        elif key == "dmdt":
            shape = (B, cfg["in_channels"], cfg["height"], cfg["width"])
            batch["dmdt"] = torch.rand(*shape, generator=g)
        elif key == "folded_image":
            batch[key] = torch.rand(B, cfg["image_channels"], 128, 128, generator=g)
        elif key == "image":
            size = cfg.get("image_size", 128)
            batch["image"] = torch.rand(B, cfg.get("in_channels", 1), size, size, generator=g)
        else:  # pragma: no cover - a new input key needs a line here
            raise AssertionError(f"no test input for key {key!r}")
    return batch


def _loss(model, batch, target, task):
    out = model(batch)
    if task == "regression":
        return torch.nn.functional.mse_loss(out, target)
    return torch.nn.functional.cross_entropy(out, target)


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in HEAVY else n for n in list_models()],
)
def test_every_model_keeps_the_contract(name, tmp_path):
    torch.manual_seed(0)
    spec = get_model_spec(name)
    task = "regression" if spec.task == "regression" else "classification"
    n_out = 3
    model = create_model(name, num_outputs=n_out)
    # a model reads the spec's inputs, or those of them its options ask for
    assert model.config["name"] == name and set(model.input_keys) <= set(spec.input_keys)
    batch = _batch(model)
    model.eval()
    out = model(batch)
    assert out.shape == (B, n_out) and torch.isfinite(out).all()

    target = torch.randn(B, n_out) if task == "regression" else torch.tensor([0, 1, 2, 0])
    params = [p for p in model.parameters() if p.requires_grad]
    before = _loss(model, batch, target, task)
    before.backward()
    # one gradient step sized to lower the loss by ~1 % to first order: a fixed Adam step
    # (lr 1e-3) overshoots on nets of 10^7+ weights such as the image models
    grad_sq = sum(float((p.grad**2).sum()) for p in params if p.grad is not None)
    assert grad_sq > 0
    torch.optim.SGD(params, lr=0.01 * float(before.detach()) / grad_sq).step()
    with torch.no_grad():
        after = _loss(model, batch, target, task)
    assert after < before, (float(before), float(after))

    directory = save_model(model, tmp_path / "model", class_names=["a", "b", "c"])
    loaded, info = load_model(directory)
    assert info["class_names"] == ["a", "b", "c"]
    assert not any(p.suffix in {".pt", ".pkl", ".pickle", ".bin"} for p in directory.iterdir())
    with torch.no_grad():
        np.testing.assert_array_equal(model(batch).numpy(), loaded(batch).numpy())


def test_unknown_model_and_option_list_the_valid_ones():
    with pytest.raises(ValueError, match="choose one of:.*kang2023_rnn"):
        create_model("kang2024_rnn")
    with pytest.raises(ValueError, match="takes no option 'colour'.*num_outputs"):
        create_model("kang2023_rnn", colour=3)


def test_every_seed_paper_has_its_models():
    names = set(list_models())
    assert {
        "kang2023_rnn",
        "kang2023_compound",
        "carraro2025_cnn_lstm",
        "carraro2025_cnn2d",
        "akhmetali2025_cnn",
    } <= names
    monti = {
        f"monti2024_{m}"
        for m in (
            "fcn",
            "resnet",
            "inception",
            "lstm",
            "bilstm",
            "gru",
            "bigru",
            "convlstm",
            "convgru",
        )
    }
    assert monti <= names and set(list_models(task="regression")) >= monti


def _builtin_models() -> list[str]:
    """skyclass's own models (other test files register throwaway ones)."""
    return [
        m for m in list_models() if get_model_spec(m).factory.__module__.startswith("skyclass.")
    ]


@pytest.mark.parametrize("name", _builtin_models())
def test_every_light_curve_model_declares_inputs_that_it_reads(name):
    from skyclass.estimator import DEFAULT_REPRESENTATIONS, check_options
    from skyclass.estimator.base import representation_builder

    spec = get_model_spec(name)
    if spec.input_keys == ("image",):  # a cutout model: no light-curve representation
        assert spec.inputs is None and name not in DEFAULT_REPRESENTATIONS
        return
    assert spec.inputs, f"{name} declares no default inputs"
    check_options(name, representations=spec.inputs)
    for rep, options in spec.inputs.items():
        options = {k: v for k, v in options.items() if k != "preset"}
        built = representation_builder(rep, spec.inputs[rep])(**options)
        assert set(built.output_shapes()) & set(spec.input_keys), f"{name} never reads {rep!r}"
    assert DEFAULT_REPRESENTATIONS[name] == spec.inputs


def test_the_default_inputs_view_is_read_only():
    from skyclass.estimator import DEFAULT_REPRESENTATIONS

    DEFAULT_REPRESENTATIONS["foldnet"]["grid"]["n"] = 7
    assert DEFAULT_REPRESENTATIONS["foldnet"]["grid"]["n"] == 128
    with pytest.raises(TypeError):
        DEFAULT_REPRESENTATIONS["foldnet"] = {}
