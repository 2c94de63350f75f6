"""The estimators keep scikit-learn's habits: parameters only in ``__init__``,
``clone`` works, learned state ends in ``_`` and a saved model loads with the
parameters it was saved with."""

from __future__ import annotations

import json
from hashlib import sha256

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted

from skyclass import LightCurve, LightCurveSet
from skyclass.estimator import (
    CutoutClassifier,
    EnsembleClassifier,
    LightCurveClassifier,
    LightCurveRegressor,
    ModelInputs,
    RawPrediction,
)
from skyclass.estimator.base import SESSION_PARAMS
from skyclass.exceptions import NotFittedError

NON_DEFAULT = {
    LightCurveClassifier: {
        "model": "mlp_features",
        "model_options": {"hidden": [16]},
        "representations": {"features": {"features": "all"}},
        "train": {"max_epochs": 2, "batch_size": 8},
        "validation_fraction": 0.25,
        "class_weight": "balanced",
        "calibration": "isotonic",
        "ood": "max_softmax",
        "ood_known_rate": 0.1,
        "period": "column",
        "random_state": 3,
        "progress": False,
    },
    LightCurveRegressor: {
        "model": "mlp_features",
        "model_options": {"hidden": [16]},
        "train": {"max_epochs": 2},
        "feature_scaling": "robust",
        "augment": False,
        "period_options": {"min_period": 0.2},
        "random_state": 5,
    },
    CutoutClassifier: {
        "model": "resnet18",
        "input": "stamps",
        "augment": False,
        "train": {"max_epochs": 1},
        "ood": None,
        "random_state": 2,
    },
}


def _toy(n=24, seed=0) -> LightCurveSet:
    """Simulated quiet vs noisy curves (not real data)."""
    rng = np.random.default_rng(seed)
    curves = [
        LightCurve(
            time=np.sort(rng.uniform(0, 50, 60)),
            mag=15 + rng.normal(0, 0.1 + 0.2 * (i % 2), 60),
            err=np.full(60, 0.05),
            band="V",
            id=str(i),
        )
        for i in range(n)
    ]
    s = LightCurveSet.from_lightcurves(curves, labels=["quiet", "noisy"] * (n // 2))
    return s.with_objects(s.objects.assign(period=1.3))


@pytest.mark.parametrize("cls", list(NON_DEFAULT), ids=lambda c: c.__name__)
def test_clone_round_trips_every_parameter(cls):
    est = cls(**NON_DEFAULT[cls])
    params = est.get_params()
    assert {k: params[k] for k in NON_DEFAULT[cls]} == NON_DEFAULT[cls]
    copy = clone(est)
    assert type(copy) is cls and copy is not est
    assert copy.get_params() == params
    assert copy.set_params(random_state=9) is copy and copy.random_state == 9
    with pytest.raises(ValueError, match="Invalid parameter"):
        copy.set_params(colour=1)


@pytest.mark.parametrize("cls", list(NON_DEFAULT), ids=lambda c: c.__name__)
def test_a_new_estimator_has_no_learned_state(cls):
    est = cls(**NON_DEFAULT[cls])
    assert [k for k in vars(est) if k.endswith("_")] == []
    with pytest.raises(NotFittedError, match="not fitted yet"):
        est.check_is_fitted()
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(est)


def test_the_regressor_has_no_classification_methods():
    reg = LightCurveRegressor()
    for name in ("predict_proba", "classes_", "calibration", "ood", "table_from_raw"):
        assert not hasattr(reg, name), name
    with pytest.raises(TypeError, match="calibration"):
        LightCurveRegressor(calibration=None)


def test_an_ensemble_clones_into_unfitted_members_and_fits_them():
    members = [LightCurveClassifier(**NON_DEFAULT[LightCurveClassifier], run_dir=None)]
    ens = EnsembleClassifier(members)
    copy = clone(ens)
    assert copy.members[0] is not members[0]
    assert copy.members[0].get_params() == members[0].get_params()
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(copy)
    s = _toy()
    copy.fit(s)
    check_is_fitted(copy)
    assert copy.classes_ == ("noisy", "quiet")
    assert copy.predict_table(s).shape[0] == len(s)
    with pytest.raises(ValueError, match="at least one member"):
        EnsembleClassifier([]).predict_table(s)


def test_loading_keeps_the_saved_parameters_and_the_learned_state(tmp_path):
    s = _toy()
    est = LightCurveClassifier(**NON_DEFAULT[LightCurveClassifier]).fit(s)
    assert est.calibrator_ is not None and est.ood_ is not None
    est.save(tmp_path / "model")
    loaded = LightCurveClassifier.load(tmp_path / "model")
    saved = {k: v for k, v in est.get_params().items() if k not in SESSION_PARAMS}
    assert {k: v for k, v in loaded.get_params().items() if k not in SESSION_PARAMS} == saved
    assert loaded.progress is False and loaded.run_dir is None
    assert loaded.calibrator_.to_dict() == est.calibrator_.to_dict()
    np.testing.assert_allclose(loaded.predict_proba(s), est.predict_proba(s))
    # a model directory written before the parameters were saved still loads
    prep_path = tmp_path / "model" / "preprocessing.json"
    prep = json.loads(prep_path.read_text())
    del prep["params"]
    prep_path.write_text(json.dumps(prep))
    card_path = tmp_path / "model" / "card.json"
    card = json.loads(card_path.read_text())
    card["saved"]["files_sha256"]["preprocessing.json"] = sha256(prep_path.read_bytes()).hexdigest()
    card_path.write_text(json.dumps(card))
    old = LightCurveClassifier.load(tmp_path / "model")
    assert (old.model, old.calibration, old.ood, old.random_state) == (
        "mlp_features",
        "isotonic",
        "max_softmax",
        3,
    )


def test_public_inputs_and_raw_outputs_feed_the_table():
    s = _toy()
    est = LightCurveClassifier(**NON_DEFAULT[LightCurveClassifier]).fit(s)
    inputs = est.transform(s)
    assert isinstance(inputs, ModelInputs) and inputs.valid.all()
    assert inputs.arrays["features"].shape[0] == len(s)
    assert est.encode_labels(["quiet", "noisy"]).tolist() == [1, 0]
    raw = est.predict_raw(s, embedding=True)
    assert isinstance(raw, RawPrediction) and raw.embedding.shape[0] == len(s)
    table = est.table_from_raw(raw, s.ids)
    assert table.equals(est.predict_table(s))
    np.testing.assert_allclose(raw.outputs, est.predict_proba(s, calibrated=False))
