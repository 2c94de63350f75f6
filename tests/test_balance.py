"""Balancing plans, class and density weights, and image augmentation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skyclass.augment.balance import (
    Bag,
    bagging_plan,
    check_plan,
    class_weights,
    density_weights,
    equal_augmentation_plan,
    moderate_augmentation_plan,
)
from skyclass.augment.images import (
    ImageAugment,
    random_flip,
    random_resize,
    random_rotation,
    resize,
)
from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve, LightCurveSet

# sizes (5, 2, 1): positions 0-4 are "a", 5-6 "b", 7 "c"
LABELS = np.array(["a"] * 5 + ["b"] * 2 + ["c"])


# ------------------------------------------------------------------ plans
def test_bagging_plan_hand_worked_counts():
    plan = bagging_plan(LABELS, n_bags=4, per_class=3, seed=0)
    assert len(plan) == 4
    for bag in plan:
        assert bag.counts(LABELS) == {
            "a": {"real": 3, "synthetic": 0},
            "b": {"real": 2, "synthetic": 1},
            "c": {"real": 1, "synthetic": 2},
        }
        # the small classes are taken whole, the big one undersampled without repeats
        assert set(bag.real.tolist()) >= {5, 6, 7}
        assert np.unique(bag.real).size == bag.real.size == 6
        assert set(bag.real[LABELS[bag.real] == "a"].tolist()) <= {0, 1, 2, 3, 4}
        # synthetic curves take their prototype's class: 1 "b" and 2 "c"
        assert sorted(LABELS[bag.synthetic].tolist()) == ["b", "c", "c"]
        assert bag.prototype_counts()[0].tolist() in ([5, 7], [6, 7])
        assert bag.labels(LABELS).tolist().count("c") == 3


def test_bagging_plan_reproducible_and_fresh_per_bag():
    labels = np.array(["a"] * 40 + ["b"] * 6 + ["c"] * 3)
    one = bagging_plan(labels, n_bags=5, per_class=10, seed=42)
    two = bagging_plan(labels, n_bags=5, per_class=10, seed=42)
    other = bagging_plan(labels, n_bags=5, per_class=10, seed=43)
    for x, y in zip(one, two, strict=True):
        assert np.array_equal(x.real, y.real)
        assert np.array_equal(x.synthetic, y.synthetic)
        assert x.seed == y.seed
    assert len({bag.seed for bag in one}) == 5  # fresh synthetic curves per bag
    assert len({tuple(bag.real[labels[bag.real] == "a"]) for bag in one}) == 5
    assert [b.seed for b in one] != [b.seed for b in other]


def test_even_prototypes_use_every_member_equally():
    (bag,) = bagging_plan(LABELS, n_bags=1, per_class=7, seed=0, prototypes="even")
    positions, counts = bag.prototype_counts()
    per_pos = dict(zip(positions.tolist(), counts.tolist(), strict=True))
    assert per_pos[7] == 6  # "c": 1 real + 6 synthetic, all from its only member
    assert sorted(per_pos[p] for p in (5, 6)) == [2, 3]  # "b": 5 synthetic over 2 members
    with pytest.raises(ValueError, match="uniform"):
        bagging_plan(LABELS, per_class=3, seed=0, prototypes="smote")


def test_equal_augmentation_plan_matches_largest_class():
    (bag,) = equal_augmentation_plan(LABELS, seed=1)
    assert bag.counts(LABELS) == {
        "a": {"real": 5, "synthetic": 0},
        "b": {"real": 2, "synthetic": 3},
        "c": {"real": 1, "synthetic": 4},
    }
    assert bag.class_weights is None
    with pytest.raises(ValueError, match="undersample"):
        equal_augmentation_plan(LABELS, target=4, seed=1)


def test_moderate_augmentation_plan_keeps_big_classes_and_weights():
    (bag,) = moderate_augmentation_plan(LABELS, target=3, seed=1)
    assert bag.counts(LABELS) == {
        "a": {"real": 5, "synthetic": 0},  # not undersampled
        "b": {"real": 2, "synthetic": 1},
        "c": {"real": 1, "synthetic": 2},
    }
    # 11 curves in 3 classes of 5, 3, 3: n / (k n_c)
    assert bag.class_weights == pytest.approx({"a": 11 / 15, "b": 11 / 9, "c": 11 / 9})


def _toy_set(n_per_class: dict[str, int]) -> LightCurveSet:
    curves, labels = [], []
    for label, n in n_per_class.items():
        for i in range(n):
            curves.append(
                LightCurve(time=[0, 1, 2], mag=[1, 2, 1], err=[0.1] * 3, band="V", id=f"{label}{i}")
            )
            labels.append(label)
    return LightCurveSet.from_lightcurves(curves, labels=labels)


def test_no_validation_or_test_object_in_any_bag():
    full = _toy_set({"RR": 60, "EB": 20, "CEP": 7})
    parts = full.split((0.6, 0.1, 0.3), seed=3)
    train = parts["train"]
    held_out = np.concatenate([parts["val"].ids, parts["test"].ids]).astype(str)
    plans = [
        bagging_plan(train.labels, n_bags=3, per_class=15, seed=0),
        equal_augmentation_plan(train.labels, seed=0),
        moderate_augmentation_plan(train.labels, target=15, seed=0),
    ]
    for plan in plans:
        check_plan(plan, train.ids, held_out)
        for bag in plan:
            real, prototypes = bag.ids(train.ids)
            assert not np.isin(real, held_out).any()
            assert not np.isin(prototypes, held_out).any()
    # a plan built before the split reaches the test set, and is refused
    leaky = bagging_plan(full.labels, n_bags=2, per_class=15, seed=0)
    with pytest.raises(DataError, match="validation/test"):
        check_plan(leaky, full.ids, held_out)
    with pytest.raises(DataError, match="planned for"):
        check_plan(leaky, train.ids, held_out)


def test_bag_refuses_bad_positions_and_labels():
    with pytest.raises(ValueError, match="positions"):
        Bag(real=[0, 3], synthetic=[], seed=0, n_train=3)
    with pytest.raises(ValueError, match="at most once"):
        Bag(real=[0, 0], synthetic=[], seed=0, n_train=3)
    with pytest.raises(DataError, match="no label"):
        bagging_plan(["a", None, "b"], seed=0)


def test_plan_does_not_mutate_labels():
    labels = LABELS.copy()
    bagging_plan(labels, n_bags=2, per_class=3, seed=0)
    assert np.array_equal(labels, LABELS)


# ---------------------------------------------------------------- weights
def test_class_weights_hand_checked():
    # n = 8, k = 3: 8 / (3 * 5), 8 / (3 * 2), 8 / (3 * 1)
    assert class_weights(LABELS) == pytest.approx({"a": 8 / 15, "b": 4 / 3, "c": 8 / 3})
    assert class_weights(LABELS, scheme="none") == {"a": 1.0, "b": 1.0, "c": 1.0}
    with pytest.raises(ValueError, match="balanced"):
        class_weights(LABELS, scheme="focal")


def test_density_weights_flat_is_even_peaked_is_low_at_peak():
    flat = np.linspace(-2.5, -0.5, 2001)
    w = density_weights(flat, bandwidth=0.05)
    assert w.mean() == pytest.approx(1.0)
    inner = w[200:-200]  # away from the edges, where any KDE falls off
    assert inner.max() / inner.min() < 1.02

    peaked = np.random.default_rng(0).normal(-1.5, 0.3, 3000)
    w = density_weights(peaked)
    assert w.mean() == pytest.approx(1.0)
    at_peak = np.abs(peaked + 1.5) < 0.05
    in_tails = np.abs(peaked + 1.5) > 0.6
    assert w[at_peak].max() < w[in_tails].min()
    assert w[at_peak].mean() < 1.0


def test_density_weights_options():
    x = np.random.default_rng(1).normal(size=200)
    raw = density_weights(x, normalize="none")
    assert np.allclose(density_weights(x, normalize="max1"), raw / raw.max())
    mm = density_weights(x, normalize="minmax")
    assert mm.min() == pytest.approx(0.01) and mm.max() == pytest.approx(1.0)
    capped = density_weights(x, normalize="none", min_density=0.1)
    assert capped.max() <= 10.0 + 1e-12
    at = density_weights(x, at=x[:10])
    assert np.allclose(at, density_weights(x)[:10])
    with pytest.raises(DataError, match="equal"):
        density_weights(np.ones(5))


# ----------------------------------------------------------------- images
@pytest.fixture
def image() -> np.ndarray:
    return np.random.default_rng(5).normal(size=(3, 21, 21))


def test_image_functions_keep_shape_and_do_not_mutate(image):
    before = image.copy()
    outputs = [
        random_rotation(image, 90, rng=0),
        random_flip(image, rng=0),
        random_resize(image, (0.8, 1.2), rng=0),
        ImageAugment(rotation=90, flip=True, resize=(0.9, 1.1))(image, rng=0),
    ]
    for out in outputs:
        assert out.shape == image.shape
        assert np.all(np.isfinite(out))
        out += 1.0  # a returned view would write into the input
    assert np.array_equal(image, before)
    assert random_resize(image, 1.5, out_size=30, rng=0).shape == (3, 30, 30)
    assert resize(image, 50).shape == (3, 50, 50)


def test_flip_twice_and_zero_rotation_are_identity(image):
    for seed in range(8):
        assert np.array_equal(random_flip(random_flip(image, rng=seed), rng=seed), image)
    assert np.array_equal(random_rotation(image, 0, rng=0), image)
    assert np.array_equal(ImageAugment(rotation=0, flip=False)(image, rng=0), image)
    # at least one seed flips: the operation is not a no-op
    assert any(not np.array_equal(random_flip(image, rng=s), image) for s in range(8))


def test_rotation_by_quarter_turn_is_exact():
    img = np.arange(16.0).reshape(1, 4, 4)
    # max_deg=90 draws angles in (-90, 90); a 90° rotation through the interpolating path
    # agrees with the exact permutation away from the corners
    near = random_rotation(img, 1e-9, rng=0)
    assert np.allclose(near, img)
    from skyclass.augment.images import rotate

    assert np.array_equal(rotate(img, 90.0), np.rot90(img, 1, axes=(1, 2)))
    assert np.allclose(rotate(img, 89.9999), np.rot90(img, 1, axes=(1, 2)), atol=1e-3)


def test_rotation_preserves_centred_flux():
    yy, xx = np.mgrid[:41, :41] - 20.0
    img = np.exp(-(xx**2 + (yy / 2) ** 2) / 8.0)[None]  # an elongated source, far from the corners
    out = random_rotation(img, 90, rng=7)
    assert out.sum() == pytest.approx(img.sum(), rel=1e-3)
    assert np.unravel_index(out.argmax(), out.shape) == (0, 20, 20)
    assert not np.array_equal(out, img)


def test_augment_seeded_and_batch_equals_singles(image):
    aug = ImageAugment(rotation=90, flip=True, resize=(0.9, 1.1))
    assert np.array_equal(aug(image, rng=11), aug(image, rng=11))
    assert not np.array_equal(aug(image, rng=11), aug(image, rng=12))
    batch = np.stack([image, image[::-1], image * 2])
    many = aug.many(batch, rng=np.random.default_rng(4))
    gen = np.random.default_rng(4)
    singles = np.stack([aug(x, rng=gen) for x in batch])
    assert np.array_equal(many, singles)


def test_augment_torch_matches_numpy(image):
    aug = ImageAugment(rotation=45, flip=True, resize=(0.9, 1.1))
    tensor = torch.tensor(image, dtype=torch.float32)
    before = tensor.clone()
    out = aug(tensor, rng=3)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    assert out.shape == tensor.shape
    assert np.allclose(out.numpy(), aug(image.astype(np.float32), rng=3), atol=1e-6)
    assert torch.equal(tensor, before)
    assert aug.many(torch.stack([tensor, tensor]), rng=0).shape == (2, 3, 21, 21)


def test_randomness_must_be_given(image):
    with pytest.raises(TypeError):
        random_flip(image)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="rng"):
        random_rotation(image, rng=None)  # type: ignore[arg-type]
