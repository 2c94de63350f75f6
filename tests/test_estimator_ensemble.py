"""EnsembleClassifier as one estimator: averaged probabilities, common classes and periods."""

from __future__ import annotations

import numpy as np
import pytest

from skyclass.estimator import EnsembleClassifier, RawPrediction
from skyclass.exceptions import DataError


class _Member:
    """A fitted classifier's stand-in: fixed probabilities whatever the data."""

    def __init__(
        self, proba, classes=("a", "b"), period="auto", period_options=None, bands_=("V",)
    ):
        self.proba = np.asarray(proba, float)
        self.classes_ = classes
        self.bands_ = bands_
        self.period = period
        self.period_options = period_options
        self.calls = 0

    def predict_proba(self, data):
        self.calls += 1
        return self.proba


def test_two_members_give_their_mean_object_by_object():
    ens = EnsembleClassifier([_Member([[0.9, 0.1], [0.2, 0.8]]), _Member([[0.5, 0.5], [0.4, 0.6]])])
    raw = ens.predict_raw(None)
    assert isinstance(raw, RawPrediction)
    np.testing.assert_allclose(raw.outputs, [[0.7, 0.3], [0.3, 0.7]])
    assert raw.valid.tolist() == [True, True]
    assert raw.errors == {} and raw.embedding is None
    np.testing.assert_allclose(ens.predict_proba(None), raw.outputs)


def test_an_object_a_member_could_not_represent_has_no_prediction():
    ens = EnsembleClassifier(
        [_Member([[0.9, 0.1], [0.2, 0.8]]), _Member([[0.5, 0.5], [np.nan] * 2])]
    )
    raw = ens.predict_raw(None)
    assert raw.valid.tolist() == [True, False]
    assert np.isnan(raw.outputs[1]).all()


def test_member_probabilities_are_each_members_own():
    members = [_Member([[0.9, 0.1]]), _Member([[0.5, 0.5]])]
    probas = EnsembleClassifier(members).member_probabilities(None)
    assert [p.tolist() for p in probas] == [[[0.9, 0.1]], [[0.5, 0.5]]]
    assert [m.calls for m in members] == [1, 1]


def test_it_reads_as_a_fitted_estimator():
    ens = EnsembleClassifier([_Member([[1, 0]], period="column", period_options={"a": 1})] * 3)
    assert len(ens) == 3
    assert ens.classes_ == ("a", "b")
    assert ens.period == "column" and ens.period_options == {"a": 1}
    assert ens.bands_ == ("V",)
    assert ens.fit_report_ == {"n_members": 3}
    assert ens.task == "classification"


def test_members_with_different_classes_are_refused():
    ens = EnsembleClassifier([_Member([[1, 0]]), _Member([[1, 0]], classes=("a", "c"))])
    with pytest.raises(DataError, match="different classes"):
        _ = ens.classes_
    with pytest.raises(DataError, match="different classes"):
        ens.predict_proba(None)


@pytest.mark.parametrize(
    "other",
    [{"period": "column"}, {"period_options": {"min_period": 0.2}}, {"bands_": ("R",)}],
    ids=["period", "period_options", "bands"],
)
def test_members_with_different_period_settings_or_bands_are_refused(other):
    ens = EnsembleClassifier([_Member([[1, 0]]), _Member([[1, 0]], **other)])
    name = next(iter(other))
    what = "bands" if name == "bands_" else f"{name} settings"
    with pytest.raises(DataError, match=f"different {what}"):
        _ = getattr(ens, name)


def test_embedding_and_empty_ensembles_are_refused():
    with pytest.raises(ValueError, match="no embedding"):
        EnsembleClassifier([_Member([[1, 0]])]).predict_raw(None, embedding=True)
    with pytest.raises(ValueError, match="at least one member"):
        EnsembleClassifier([]).predict_proba(None)
    with pytest.raises(ValueError, match="at least one member"):
        _ = EnsembleClassifier([]).period


def test_predict_is_the_class_of_highest_averaged_probability():
    first = _Member([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    second = _Member([[0.3, 0.7], [0.4, 0.6], [np.nan] * 2])
    assert EnsembleClassifier([first, second]).predict(None).tolist() == ["a", "b", None]
