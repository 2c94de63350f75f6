"""Model sizes come from the registry's ``shapes`` declarations, not from a table of array keys.

Each model says which of its options an input's shape fixes
(:attr:`~skyclass.models.registry.ModelSpec.shapes`); :func:`skyclass.training.fit`
reads that. These tests check that every light-curve model gets the same options,
and so the same network, as under the key table ``fit`` used before, and that a
size the caller set which the data contradict is refused.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from skyclass.estimator.base import representation_builder
from skyclass.models import create_model, get_model_spec, list_models, register_model
from skyclass.training import fit, shape_options

#: The key table fit read before models declared their shapes: key -> [(option, axis
#: after the objects' axis)], applied where the model reads the key and takes the option.
_OLD_TABLE = {
    "seq": [("seq_channels", -1)],
    "features": [("num_features", -1)],
    "grid": [("in_channels", 0), ("length", 1)],
    "dmdt": [("in_channels", 0), ("height", 1), ("width", 2)],
    "folded_image": [("image_channels", 0)],
}

#: The representation option naming the bands, and a value with two bands where it can.
_BANDS = {
    "sequence": ("band_order", ["g", "r"]),
    "phase_sequence": ("band", "g"),
    "grid": ("bands", ["g", "r"]),
    "dmdt": ("bands", ["g", "r"]),
    "image": ("band", "g"),
    "features": ("bands", ["g", "r"]),
}

LIGHT_CURVE_MODELS = [
    m
    for m in list_models()
    if get_model_spec(m).inputs is not None
    and get_model_spec(m).factory.__module__.startswith("skyclass.")
]


def _old_shape_options(model: str, arrays) -> dict:
    spec = get_model_spec(model)
    accepted = inspect.signature(spec.factory).parameters
    out: dict = {}
    for key, rules in _OLD_TABLE.items():
        if key in arrays and key in spec.input_keys:
            for option, axis in rules:
                if option in accepted:
                    out.setdefault(option, int(np.shape(arrays[key])[1:][axis]))
    return out


def _default_arrays(model: str, n: int = 2) -> dict[str, np.ndarray]:
    """Zero arrays of the shapes the model's default representations give (two bands)."""
    spec = get_model_spec(model)
    arrays = {}
    for name, options in spec.inputs.items():
        options = {k: v for k, v in options.items() if k != "preset"}
        if name in _BANDS:
            key, value = _BANDS[name]
            options.setdefault(key, value)
        rep = representation_builder(name, spec.inputs[name])(**options)
        for key, shape in rep.output_shapes().items():
            arrays[key] = np.zeros((n, *shape), np.float32)
    return arrays


def _n_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", LIGHT_CURVE_MODELS)
def test_every_light_curve_model_gets_the_options_and_network_of_the_old_key_table(name):
    arrays = _default_arrays(name)
    declared = shape_options(name, arrays)
    assert declared == _old_shape_options(name, arrays)
    new = create_model(name, num_outputs=3, **declared)
    old = create_model(name, num_outputs=3, **_old_shape_options(name, arrays))
    assert _n_parameters(new) == _n_parameters(old)
    assert new.config == old.config


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # grid (N, 2 bands, 512 phases) and no features array by default
        ("akhmetali2025_cnn", {"in_channels": 2, "length": 512}),
        # dm-dt maps (N, one per band, 11 dm bins, 22 dt bins): the carraro2025 preset
        ("carraro2025_cnn2d", {"in_channels": 2, "height": 11, "width": 22}),
        # sequence (N, 300, dt + mag + err + a one-hot of 2 bands), 14 features,
        # raster (N, 1, 128, 128)
        ("kang2023_compound", {"seq_channels": 5, "num_features": 14, "image_channels": 1}),
        # phase sequence (N, 100, 2: mag, phase x period)
        ("monti2024_lstm", {"seq_channels": 2}),
    ],
)
def test_representative_models_get_the_sizes_worked_out_by_hand(name, expected):
    assert shape_options(name, _default_arrays(name)) == expected


def test_a_size_the_caller_set_must_agree_with_the_data():
    arrays = {"grid": np.zeros((3, 2, 16)), "features": np.zeros((3, 5))}
    assert shape_options("grid_features", arrays, {"length": 16}) == {
        "length": 16,
        "in_channels": 2,
        "num_features": 5,
    }
    with pytest.raises(ValueError, match=r"length=32.*'grid' has shape \(3, 2, 16\).*16"):
        shape_options("grid_features", arrays, {"length": 32})
    with pytest.raises(ValueError, match="num_features=9"):
        fit(
            "mlp_features",
            {"features": np.zeros((4, 5), np.float32)},
            np.zeros(4, int),
            num_outputs=2,
            model_options={"num_features": 9},
        )


def test_zero_switches_an_optional_input_off_even_when_the_data_carry_it():
    arrays = {"seq": np.zeros((2, 10, 3)), "features": np.zeros((2, 4))}
    options = shape_options("kang2023_rnn", arrays, {"num_features": 0})
    assert options == {"num_features": 0, "seq_channels": 3}


def test_a_declaration_that_could_never_be_filled_is_refused_at_registration():
    def factory(*, num_outputs=2, width=3):  # pragma: no cover - never built
        raise AssertionError

    with pytest.raises(ValueError, match="does not take"):
        register_model("t_shapes_a", input_keys=("features",), shapes={"depth": ("features", 1)})(
            factory
        )
    with pytest.raises(ValueError, match="not one of its input_keys"):
        register_model("t_shapes_b", input_keys=("features",), shapes={"width": ("grid", 1)})(
            factory
        )
    with pytest.raises(ValueError, match="axis 0"):
        register_model("t_shapes_c", input_keys=("features",), shapes={"width": ("features", 0)})(
            factory
        )
    assert not {"t_shapes_a", "t_shapes_b", "t_shapes_c"} & set(list_models())
