"""Recurrent, transformer and compound models: the registry contract, masking, training, saving."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file, save_file

from skyclass.models import create_model, get_model_spec
from skyclass.models.compound import Kang2023Compound, SameConv2d
from skyclass.models.recurrent import masked_sequence, pack_real_steps

B, L, IMAGE = 4, 12, 64

# tiny versions of every model here, and the channels of the seq each reads
TINY: dict[str, dict] = {
    "kang2023_rnn": dict(gru_units=(6, 5), dense_units=(8, 4), feature_units=(6, 4)),
    "kang2023_compound": dict(
        gru_units=(6, 5),
        dense_units=(8, 4),
        feature_units=(6, 4),
        cnn_filters=(4, 4, 4, 4),
        cnn_dense_units=8,
        cnn_out_features=4,
    ),
    "monti2024_lstm": dict(units=(5, 4, 3)),
    "monti2024_bilstm": dict(units=(5, 4, 3)),
    "monti2024_gru": dict(units=(5, 4, 3)),
    "monti2024_bigru": dict(units=(5, 4, 3)),
    "transformer_seq": dict(d_model=8, nhead=2, num_layers=2, dim_feedforward=16),
}
NAMES = sorted(TINY)
CHANNELS = {"monti2024_lstm": 2, "monti2024_bilstm": 2, "monti2024_gru": 2, "monti2024_bigru": 2}


def _tasks(name: str) -> list[str]:
    task = get_model_spec(name).task
    return ["classification", "regression"] if task == "both" else [task]


def _build(name: str, num_outputs: int, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return create_model(name, num_outputs=num_outputs, **TINY[name])


def _batch(name: str, seed: int = 1) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([L, 7, 3, 1])
    mask = (torch.arange(L)[None, :] < lengths[:, None]).float()
    channels = CHANNELS.get(name, 3)
    seq = torch.randn(B, L, channels, generator=gen) * mask[..., None]
    return {
        "seq": seq,
        "mask": mask,
        "features": torch.randn(B, 2, generator=gen),
        "folded_image": (torch.rand(B, 1, IMAGE, IMAGE, generator=gen) > 0.9).float(),
    }


@pytest.mark.parametrize("name", NAMES)
def test_output_shape_and_finite(name: str) -> None:
    for task in _tasks(name):
        num_outputs = 3 if task == "classification" else 1
        model = _build(name, num_outputs).eval()
        batch = _batch(name)
        assert set(model.input_keys) <= set(batch)
        with torch.no_grad():
            out = model(batch)
        assert out.shape == (B, num_outputs)
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", NAMES)
def test_padding_does_not_change_output(name: str) -> None:
    model = _build(name, 3).eval()
    batch = _batch(name)
    padded = batch["mask"] == 0
    other = dict(batch)
    noise = torch.randn(batch["seq"].shape, generator=torch.Generator().manual_seed(7)) * 100
    other["seq"] = torch.where(padded[..., None], noise, batch["seq"])
    nan_padded = dict(batch)
    nan_padded["seq"] = batch["seq"].masked_fill(padded[..., None], float("nan"))
    with torch.no_grad():
        ref = model(batch)
        torch.testing.assert_close(model(other), ref, rtol=0, atol=1e-6)
        torch.testing.assert_close(model(nan_padded), ref, rtol=0, atol=1e-6)
        # padding moved to the front reads as the same real steps
        order = torch.argsort(batch["mask"], dim=1, stable=True)
        front = {
            **batch,
            "seq": torch.gather(batch["seq"], 1, order[..., None].expand_as(batch["seq"])),
            "mask": torch.gather(batch["mask"], 1, order),
        }
        assert front["mask"][1, 0] == 0
        torch.testing.assert_close(model(front), ref, rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_one_adam_step_lowers_the_loss(name: str) -> None:
    for task in _tasks(name):
        model = _build(name, 3 if task == "classification" else 1).eval()  # no dropout noise
        batch = _batch(name)
        if task == "classification":
            target = torch.tensor([0, 1, 2, 1])

            def loss_fn(out: torch.Tensor, target: torch.Tensor = target) -> torch.Tensor:
                return torch.nn.functional.cross_entropy(out, target)
        else:
            target = torch.tensor([[0.5], [-1.0], [1.5], [0.0]])

            def loss_fn(out: torch.Tensor, target: torch.Tensor = target) -> torch.Tensor:
                return torch.nn.functional.mse_loss(out, target)

        optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
        before = loss_fn(model(batch))
        before.backward()
        optimiser.step()
        with torch.no_grad():
            after = loss_fn(model(batch))
        assert after < before


@pytest.mark.parametrize("name", NAMES)
def test_safetensors_round_trip(name: str, tmp_path) -> None:
    model = _build(name, 3, seed=0).eval()
    path = tmp_path / "model.safetensors"
    save_file(model.state_dict(), str(path))
    rebuilt = _build(name, 3, seed=123).eval()
    rebuilt.load_state_dict(load_file(str(path)))
    batch = _batch(name)
    with torch.no_grad():
        assert torch.equal(rebuilt(batch), model(batch))


def test_monti_gru_matches_paper_parameter_count() -> None:
    # monti2024 Table 2: gru_1 1440, gru_2 1824, gru_3 624, dense 9
    model = create_model("monti2024_gru")
    counts = [sum(p.numel() for p in layer.parameters()) for layer in [*model.rnn, model.head]]
    assert counts == [1440, 1824, 624, 9]


@pytest.mark.parametrize(
    ("name", "groups"),
    [
        ("monti2024_lstm", {"kernel_l2": 2e-6, "recurrent_l1": 2e-6}),
        ("monti2024_bilstm", {"kernel_l1": 2e-6, "recurrent_l1": 2e-6}),
        ("monti2024_gru", {"kernel_l2": 2e-6, "recurrent_l1": 2e-6}),
        ("monti2024_bigru", {"kernel_l1": 2e-6, "recurrent_l1": 2e-6}),
    ],
)
def test_monti_regularization_loss(name: str, groups: dict[str, float]) -> None:
    model = _build(name, 1)
    for key in ("kernel_l1", "kernel_l2", "recurrent_l1", "recurrent_l2"):
        assert getattr(model, key) == groups.get(key, 0.0)
    weights = model.regularization_groups()
    layers = 2 if "bi" in name else 1
    assert len(weights["kernel"]) == len(weights["recurrent"]) == 3 * layers
    expected = sum(
        groups.get("kernel_l1", 0.0) * w.abs().sum() + groups.get("kernel_l2", 0.0) * w.pow(2).sum()
        for w in weights["kernel"]
    ) + sum(groups.get("recurrent_l1", 0.0) * w.abs().sum() for w in weights["recurrent"])
    torch.testing.assert_close(model.regularization_loss(), expected)
    model.regularization_loss().backward()
    assert weights["recurrent"][0].grad is not None


def test_compound_loads_and_freezes_rnn() -> None:
    rnn = _build("kang2023_rnn", 3, seed=0)
    compound = _build("kang2023_compound", 3, seed=5)
    assert isinstance(compound, Kang2023Compound)
    rnn_options = {k: compound.config[k] for k in rnn.config if k != "name"}
    assert rnn_options == {k: v for k, v in rnn.config.items() if k != "name"}

    compound.rnn.load_state_dict(rnn.state_dict())  # the layer names agree
    compound.load_rnn_state({f"rnn.{k}": v for k, v in rnn.state_dict().items()})
    state = compound.state_dict()
    assert compound.rnn_state_keys() == [f"rnn.{k}" for k in rnn.state_dict()]
    for key, value in rnn.state_dict().items():
        assert torch.equal(state[f"rnn.{key}"], value)

    compound.freeze_rnn()
    frozen = {k: v.clone() for k, v in compound.rnn.state_dict().items()}
    others = {k: v.clone() for k, v in compound.cnn.state_dict().items()}
    assert all(not p.requires_grad for p in compound.rnn.parameters())
    compound.train()
    optimiser = torch.optim.Adam(compound.parameters(), lr=1e-2)
    loss = torch.nn.functional.cross_entropy(
        compound(_batch("kang2023_compound")), torch.tensor([0, 1, 2, 1])
    )
    loss.backward()
    optimiser.step()
    for key, value in compound.rnn.state_dict().items():
        assert torch.equal(value, frozen[key]), key
    assert any(not torch.equal(v, others[k]) for k, v in compound.cnn.state_dict().items())
    assert set(map(id, compound.trainable_parameters())) == {
        id(p) for n, p in compound.named_parameters() if not n.startswith("rnn.")
    }
    compound.unfreeze_rnn()
    assert all(p.requires_grad for p in compound.rnn.parameters())


def test_compound_rejects_a_mismatched_rnn() -> None:
    compound = _build("kang2023_compound", 3)
    other = create_model("kang2023_rnn", num_outputs=3, gru_units=(7, 5))
    with pytest.raises(RuntimeError):
        compound.load_rnn_state(other.state_dict())


def test_wrong_shapes_say_how_to_fix() -> None:
    model = _build("monti2024_gru", 1)
    with pytest.raises(ValueError, match="seq_channels=3"):
        model({"seq": torch.zeros(2, 5, 3), "mask": torch.ones(2, 5)})
    kang = _build("kang2023_rnn", 3)
    with pytest.raises(ValueError, match="num_features"):
        kang({"seq": torch.zeros(2, 5, 3), "mask": torch.ones(2, 5), "features": torch.zeros(2, 4)})
    compound = _build("kang2023_compound", 3)
    batch = {**_batch("kang2023_compound"), "folded_image": torch.zeros(B, 1, 32, 32)}
    with pytest.raises(ValueError, match="too small"):
        compound(batch)


def test_empty_row_gives_finite_output() -> None:
    for name in NAMES:
        model = _build(name, 2).eval()
        batch = _batch(name)
        batch["mask"][0] = 0.0
        with torch.no_grad():
            assert torch.isfinite(model(batch)).all(), name


def test_pack_real_steps_keeps_order() -> None:
    seq = torch.arange(10.0).reshape(2, 5, 1)
    mask = torch.tensor([[0, 1, 0, 1, 1], [1, 1, 0, 0, 0]], dtype=torch.float32)
    x, real = masked_sequence({"seq": seq, "mask": mask}, 1, "test")
    packed = pack_real_steps(x, real)
    unpacked, lengths = torch.nn.utils.rnn.pad_packed_sequence(packed, batch_first=True)
    assert lengths.tolist() == [3, 2]
    assert unpacked[0, :, 0].tolist() == [1.0, 3.0, 4.0]
    assert unpacked[1, :2, 0].tolist() == [5.0, 6.0]


def test_same_conv_matches_keras_output_size() -> None:
    for size in (64, 65, 128):
        out = SameConv2d(1, 1, 16, stride=2)(torch.zeros(1, 1, size, size))
        assert out.shape[-1] == -(-size // 2)
