"""Class balancing as data: bagging plans, class weights and density weights.

A *plan* is a list of :class:`Bag`. A bag says which training objects to use
(positions into the training set) and from which training objects to make how
many synthetic curves, with the seed for those draws; it holds no curves. The
GP step (:mod:`skyclass.augment.gp`) runs later, bag by bag::

    rng = np.random.default_rng(bag.seed)
    positions, n_per_curve = bag.prototype_counts()
    curves = synthesize_many(train.select(positions), fits, n_per_curve, rng)

so this module needs nothing from it, and a plan can be saved, inspected and
checked before any curve is made.

Plans are built from the labels of the **training** set only, after the split
(``LightCurveSet.split``): positions index that set, and :func:`check_plan`
verifies by id that no validation or test object reaches a bag. Validation and
test sets are never augmented here.

The three kang2023 schemes (Kang et al. 2023, Sect. 3 and 5):

- :func:`bagging_plan` — their method: ``n_bags`` sub-datasets of ``per_class``
  curves per class (10 and 1875 in the paper); big classes randomly
  undersampled, small ones topped up with GP curves that are fresh in every bag.
- :func:`equal_augmentation_plan` — baseline "equal augmentation": every class
  augmented to the size of the largest class; one training set.
- :func:`moderate_augmentation_plan` — baseline "moderate augmentation + class
  weights": small classes augmented to a moderate size (1875), big classes
  kept whole, class weights in the loss; one training set.

:func:`density_weights` (defined in :mod:`skyclass.density`, as the weighted
regression metrics use it too) gives monti2024's sample weights for a continuous
target: a Gaussian KDE of the target, weight ∝ 1 / density.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from skyclass.density import density_weights
from skyclass.exceptions import DataError

__all__ = [
    "PROTOTYPE_METHODS",
    "WEIGHT_SCHEMES",
    "Bag",
    "bagging_plan",
    "check_plan",
    "class_weights",
    "density_weights",
    "equal_augmentation_plan",
    "moderate_augmentation_plan",
]

SeedLike = int | np.random.SeedSequence


@dataclass(frozen=True, eq=False)
class Bag:
    """One training sub-dataset: real objects, prototypes of synthetic curves, a seed.

    Parameters
    ----------
    real : ndarray of int
        Positions into the training set of the real objects in this bag. Never
        repeated within a bag: big classes are undersampled *without*
        replacement (kang2023's random undersampling), small ones are taken whole.
    synthetic : ndarray of int
        Positions into the training set of the prototypes, one entry per
        synthetic curve to make; a position may repeat (several synthetic
        curves from one prototype). The class of a synthetic curve is its
        prototype's class.
    seed : int
        Seed of this bag's synthetic draws (``np.random.default_rng(seed)``);
        every bag of a plan has its own, so synthetic curves are fresh per bag.
    n_train : int
        Size of the training set the plan was made for; :func:`check_plan`
        refuses a set of another size.
    class_weights : mapping of str to float, optional
        Loss weight of each class when training on this bag (None: unweighted).
    meta : mapping
        How the bag was made (scheme and its parameters).

    Examples
    --------
    >>> bag = Bag(real=[0, 2], synthetic=[1, 1, 2], seed=7, n_train=3)
    >>> bag.n_real, bag.n_synthetic, len(bag)
    (2, 3, 5)
    >>> [p.tolist() for p in bag.prototype_counts()]
    [[1, 2], [2, 1]]
    >>> bag.labels(["a", "b", "a"]).tolist()
    ['a', 'a', 'b', 'b', 'a']
    """

    real: np.ndarray
    synthetic: np.ndarray
    seed: int
    n_train: int
    class_weights: Mapping[str, float] | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("real", "synthetic"):
            arr = np.array(getattr(self, name), dtype=np.int64, copy=True).reshape(-1)
            arr.setflags(write=False)
            set_(self, name, arr)
        set_(self, "seed", int(self.seed))
        set_(self, "n_train", int(self.n_train))
        if self.class_weights is not None:
            set_(
                self,
                "class_weights",
                MappingProxyType({str(k): float(v) for k, v in self.class_weights.items()}),
            )
        set_(self, "meta", MappingProxyType(dict(self.meta)))
        every = np.concatenate([self.real, self.synthetic])
        if every.size and (every.min() < 0 or every.max() >= self.n_train):
            raise ValueError(
                f"bag positions must lie in [0, {self.n_train}) (positions into the training set)"
            )
        if np.unique(self.real).size != self.real.size:
            raise ValueError("a bag holds each real object at most once")

    def __len__(self) -> int:
        return self.n_real + self.n_synthetic

    def __repr__(self) -> str:
        return (
            f"Bag(n_real={self.n_real}, n_synthetic={self.n_synthetic}, seed={self.seed}, "
            f"weighted={self.class_weights is not None})"
        )

    @property
    def n_real(self) -> int:
        """Number of real curves."""
        return int(self.real.size)

    @property
    def n_synthetic(self) -> int:
        """Number of synthetic curves to make."""
        return int(self.synthetic.size)

    def prototype_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct prototype positions (sorted) and how many curves to make from each.

        This is the ``(curves, n_per_curve)`` pair the GP step takes.
        """
        positions, counts = np.unique(self.synthetic, return_counts=True)
        return positions, counts

    def labels(self, train_labels: Sequence[Any] | np.ndarray) -> np.ndarray:
        """Class of every curve of the bag: real ones first, then synthetic ones (as str)."""
        lab = _as_labels(train_labels)
        _check_length(self, lab.size)
        return np.concatenate([lab[self.real], lab[self.synthetic]])

    def ids(self, train_ids: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ids of the real objects and of the prototypes (one per synthetic curve)."""
        ids = np.asarray(train_ids).astype(str)
        _check_length(self, ids.size)
        return ids[self.real], ids[self.synthetic]

    def counts(self, train_labels: Sequence[Any] | np.ndarray) -> dict[str, dict[str, int]]:
        """Per class, the number of real and synthetic curves.

        Examples
        --------
        >>> Bag(real=[0, 2], synthetic=[1], seed=0, n_train=3).counts(["a", "b", "a"])
        {'a': {'real': 2, 'synthetic': 0}, 'b': {'real': 0, 'synthetic': 1}}
        """
        lab = _as_labels(train_labels)
        _check_length(self, lab.size)
        out = {}
        for c in np.unique(lab):
            out[str(c)] = {
                "real": int(np.sum(lab[self.real] == c)),
                "synthetic": int(np.sum(lab[self.synthetic] == c)),
            }
        return out


def _check_length(bag: Bag, n: int) -> None:
    if n != bag.n_train:
        raise DataError(
            f"the bag was planned for a training set of {bag.n_train} objects, got {n}; "
            "pass the labels or ids of the training set the plan was made from"
        )


def _as_labels(labels: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Labels as a 1-D str array; refuses missing labels."""
    raw = np.asarray(labels, dtype=object).reshape(-1)
    if raw.size == 0:
        raise DataError("no labels: a plan needs a labelled, non-empty training set")
    missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in raw])
    if missing.any():
        raise DataError(
            f"{int(missing.sum())} training objects have no label; drop them first, e.g. "
            "train.select(pd.notna(train.labels))"
        )
    return raw.astype(str)


def _spawn(seed: SeedLike, n: int) -> list[np.random.SeedSequence]:
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return root.spawn(n)


# ------------------------------------------------------------ prototype choice
def _prototypes_uniform(members: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws from ``members``, uniformly with replacement."""
    return rng.choice(members, size=n, replace=True)


def _prototypes_even(members: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Every member ``n // m`` times, the remainder drawn without replacement."""
    whole, rest = divmod(n, members.size)
    extra = rng.choice(members, size=rest, replace=False)
    return rng.permutation(np.concatenate([np.repeat(members, whole), extra]))


#: How prototypes of a class's synthetic curves are chosen among its members.
PROTOTYPE_METHODS: dict[str, Callable[[np.ndarray, int, np.random.Generator], np.ndarray]] = {
    "uniform": _prototypes_uniform,
    "even": _prototypes_even,
}


def _prototype_method(name: str) -> Callable[[np.ndarray, int, np.random.Generator], np.ndarray]:
    if name == "auto":
        name = "uniform"
    try:
        return PROTOTYPE_METHODS[name]
    except KeyError:
        raise ValueError(
            f"unknown prototypes={name!r}; choose one of {['auto', *PROTOTYPE_METHODS]}"
        ) from None


def _fill_class(
    members: np.ndarray,
    size: int,
    rng: np.random.Generator,
    choose: Callable[[np.ndarray, int, np.random.Generator], np.ndarray],
    *,
    undersample: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Real positions and prototype positions that bring one class to ``size`` curves."""
    if members.size >= size:
        if not undersample:
            return members, np.empty(0, np.int64)
        return np.sort(rng.choice(members, size=size, replace=False)), np.empty(0, np.int64)
    return members, choose(members, size - members.size, rng)


def _plan_one(
    lab: np.ndarray,
    sizes: Mapping[str, int],
    seq: np.random.SeedSequence,
    prototypes: str,
    *,
    undersample: bool,
    weights: Callable[[np.ndarray], dict[str, float]] | None = None,
    meta: Mapping[str, Any],
) -> Bag:
    choose = _prototype_method(prototypes)
    draw_seq, synth_seq = seq.spawn(2)
    rng = np.random.default_rng(draw_seq)
    real, synthetic = [], []
    for c in sorted(sizes):
        members = np.flatnonzero(lab == c)
        r, s = _fill_class(members, sizes[c], rng, choose, undersample=undersample)
        real.append(r)
        synthetic.append(s)
    real_all = np.concatenate(real)
    synth_all = np.concatenate(synthetic)
    cw = None
    if weights is not None:
        cw = weights(np.concatenate([lab[real_all], lab[synth_all]]))
    return Bag(
        real=real_all,
        synthetic=synth_all,
        seed=int(synth_seq.generate_state(1, np.uint32)[0]),
        n_train=lab.size,
        class_weights=cw,
        meta={**meta, "prototypes": prototypes},
    )


# ------------------------------------------------------------------- plans
def bagging_plan(
    labels: Sequence[Any] | np.ndarray,
    *,
    n_bags: int = 10,
    per_class: int = 1875,
    seed: SeedLike,
    prototypes: str = "auto",
) -> list[Bag]:
    """kang2023's bagging-like plan: ``n_bags`` class-balanced sub-datasets of the training set.

    In every bag each class holds exactly ``per_class`` curves. A class with at
    least ``per_class`` training objects is undersampled: ``per_class`` of them
    are drawn without replacement, afresh for each bag. A smaller class keeps
    all its objects and gets ``per_class - count`` synthetic curves whose
    prototypes are drawn from that class (``prototypes="uniform"``: uniformly
    with replacement; ``"even"``: every member equally often, the remainder at
    random). Each bag has its own seed, so the GP step makes fresh synthetic
    curves for every bag.

    Parameters
    ----------
    labels : array_like
        Class of every **training** object (e.g. ``split["train"].labels``);
        compared as strings.
    n_bags : int
        Number of sub-datasets (10 in kang2023).
    per_class : int
        Curves per class in each bag (1875 in kang2023).
    seed : int or numpy.random.SeedSequence
        Seed of the whole plan; bag seeds are spawned from it.
    prototypes : {"auto", "uniform", "even"}
        How prototypes are chosen; ``"auto"`` is ``"uniform"``.

    Returns
    -------
    list of Bag

    Examples
    --------
    >>> labels = ["a"] * 5 + ["b"] * 2 + ["c"]
    >>> plan = bagging_plan(labels, n_bags=2, per_class=3, seed=0)
    >>> [(c, n["real"], n["synthetic"]) for c, n in plan[0].counts(labels).items()]
    [('a', 3, 0), ('b', 2, 1), ('c', 1, 2)]
    >>> plan[0].seed != plan[1].seed
    True
    """
    if n_bags < 1 or per_class < 1:
        raise ValueError(f"n_bags and per_class must be positive, got {n_bags} and {per_class}")
    lab = _as_labels(labels)
    sizes = {str(c): per_class for c in np.unique(lab)}
    meta = {"scheme": "bagging", "per_class": per_class, "n_bags": n_bags}
    return [
        _plan_one(lab, sizes, seq, prototypes, undersample=True, meta={**meta, "bag": i})
        for i, seq in enumerate(_spawn(seed, n_bags))
    ]


def equal_augmentation_plan(
    labels: Sequence[Any] | np.ndarray,
    *,
    target: int | None = None,
    seed: SeedLike,
    prototypes: str = "auto",
) -> list[Bag]:
    """kang2023's "equal augmentation" baseline: every class augmented to one size.

    The paper augments "each category of the training set to the same number of
    the largest category"; nothing is undersampled and no class weights are
    used. Returns a plan of one bag holding every training object plus the
    synthetic curves.

    Parameters
    ----------
    labels : array_like
        Class of every training object.
    target : int, optional
        Curves per class; defaults to the size of the largest class and may not
        be smaller than it (use :func:`bagging_plan` to undersample).
    seed : int or numpy.random.SeedSequence
        Seed of the prototype draws and of the bag's synthetic draws.
    prototypes : {"auto", "uniform", "even"}
        How prototypes are chosen (see :func:`bagging_plan`).

    Returns
    -------
    list of Bag
        One bag.

    Examples
    --------
    >>> labels = ["a"] * 5 + ["b"] * 2 + ["c"]
    >>> (bag,) = equal_augmentation_plan(labels, seed=0)
    >>> {c: n["real"] + n["synthetic"] for c, n in bag.counts(labels).items()}
    {'a': 5, 'b': 5, 'c': 5}
    """
    lab = _as_labels(labels)
    classes, counts = np.unique(lab, return_counts=True)
    biggest = int(counts.max())
    size = biggest if target is None else int(target)
    if size < biggest:
        raise ValueError(
            f"target={size} is below the largest class ({biggest}); equal augmentation does not "
            "undersample: leave target=None, or use bagging_plan to undersample"
        )
    meta = {"scheme": "equal_augmentation", "target": size}
    sizes = {str(c): size for c in classes}
    (seq,) = _spawn(seed, 1)
    return [_plan_one(lab, sizes, seq, prototypes, undersample=False, meta=meta)]


def moderate_augmentation_plan(
    labels: Sequence[Any] | np.ndarray,
    *,
    target: int = 1875,
    seed: SeedLike,
    scheme: str = "balanced",
    prototypes: str = "auto",
) -> list[Bag]:
    """kang2023's "moderate augmentation + class weights" baseline.

    Classes smaller than ``target`` are augmented to ``target`` curves (1875 in
    the paper, the bag size of its ensemble); bigger classes are kept whole, not
    undersampled; the remaining imbalance is handled by class weights in the
    loss. The paper does not give the weight formula; here the weights are
    :func:`class_weights` (``scheme``) of the augmented set's class counts, so
    a class of ``target`` curves weighs more than a bigger real class.

    Parameters
    ----------
    labels : array_like
        Class of every training object.
    target : int
        Size small classes are augmented to.
    seed : int or numpy.random.SeedSequence
        Seed of the prototype draws and of the bag's synthetic draws.
    scheme : str
        Class-weight scheme, a key of :data:`WEIGHT_SCHEMES`.
    prototypes : {"auto", "uniform", "even"}
        How prototypes are chosen (see :func:`bagging_plan`).

    Returns
    -------
    list of Bag
        One bag, with ``class_weights`` set.

    Examples
    --------
    >>> labels = ["a"] * 6 + ["b"] * 2
    >>> (bag,) = moderate_augmentation_plan(labels, target=3, seed=0)
    >>> bag.n_real, bag.n_synthetic, dict(bag.class_weights)
    (8, 1, {'a': 0.75, 'b': 1.5})
    """
    if target < 1:
        raise ValueError(f"target must be positive, got {target}")
    _weight_scheme(scheme)
    lab = _as_labels(labels)
    sizes = {str(c): target for c in np.unique(lab)}
    meta = {"scheme": "moderate_augmentation", "target": target, "weights": scheme}
    (seq,) = _spawn(seed, 1)
    return [
        _plan_one(
            lab,
            sizes,
            seq,
            prototypes,
            undersample=False,
            weights=lambda bag_labels: class_weights(bag_labels, scheme=scheme),
            meta=meta,
        )
    ]


def check_plan(
    plan: Bag | Sequence[Bag],
    train_ids: Sequence[Any] | np.ndarray,
    forbidden_ids: Sequence[Any] | np.ndarray = (),
) -> None:
    """Refuse a plan that reaches outside the training set.

    Checks that every bag was planned for a set of ``len(train_ids)`` objects,
    and — by id, so a plan made from the wrong set is caught — that no real
    object or prototype of any bag is among ``forbidden_ids`` (the validation
    and test ids).

    Parameters
    ----------
    plan : Bag or sequence of Bag
    train_ids : array_like
        Ids of the training set the plan indexes (``train.ids``).
    forbidden_ids : array_like
        Ids that must never appear in a bag (``np.concatenate([val.ids, test.ids])``).

    Raises
    ------
    DataError
        Naming the bag and the first offending ids.

    Examples
    --------
    >>> plan = bagging_plan(["a", "a", "b"], n_bags=2, per_class=2, seed=0)
    >>> check_plan(plan, ["x", "y", "z"], forbidden_ids=["v", "t"])
    >>> check_plan(plan, ["x", "y", "t"], forbidden_ids=["v", "t"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skyclass.exceptions.DataError: bag 0 uses 1 validation/test object(s), e.g. ['t']; ...
    """
    bags = [plan] if isinstance(plan, Bag) else list(plan)
    ids = np.asarray(train_ids).astype(str)
    if np.unique(ids).size != ids.size:
        raise DataError("train_ids holds repeated ids; object ids must be unique")
    forbidden = np.asarray(forbidden_ids).astype(str)
    for k, bag in enumerate(bags):
        if bag.n_train != ids.size:
            raise DataError(
                f"bag {k} was planned for {bag.n_train} training objects but train_ids has "
                f"{ids.size}; check the plan against the set it was built from"
            )
        real, protos = bag.ids(ids)
        used = np.unique(np.concatenate([real, protos]))
        bad = used[np.isin(used, forbidden)]
        if bad.size:
            raise DataError(
                f"bag {k} uses {bad.size} validation/test object(s), e.g. {bad[:5].tolist()}; "
                "build plans from the training set of the split only (split['train'].labels)"
            )


# ----------------------------------------------------------------- weights
def _balanced(classes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    return counts.sum() / (classes.size * counts)


def _sqrt_balanced(classes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    return np.sqrt(_balanced(classes, counts))


def _no_weights(classes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    return np.ones(classes.size)


#: Class-weight schemes: ``balanced`` is n / (k · n_c) (scikit-learn's "balanced").
WEIGHT_SCHEMES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "balanced": _balanced,
    "sqrt_balanced": _sqrt_balanced,
    "none": _no_weights,
}


def _weight_scheme(name: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    if name == "auto":
        name = "balanced"
    try:
        return WEIGHT_SCHEMES[name]
    except KeyError:
        raise ValueError(
            f"unknown scheme={name!r}; choose one of {['auto', *WEIGHT_SCHEMES]}"
        ) from None


def class_weights(labels: Sequence[Any] | np.ndarray, scheme: str = "balanced") -> dict[str, float]:
    """Loss weight of every class, keyed by class name (sorted).

    Parameters
    ----------
    labels : array_like
        Class of every training curve (real and synthetic), compared as strings.
    scheme : {"auto", "balanced", "sqrt_balanced", "none"}
        ``balanced`` (= ``auto``): n / (k · n_c) for n curves in k classes, n_c in
        class c, so every class carries the same total weight; ``sqrt_balanced``
        its square root (a milder correction); ``none``: all 1.

    Returns
    -------
    dict of str to float

    Examples
    --------
    >>> class_weights(["a", "a", "a", "b"])
    {'a': 0.6666666666666666, 'b': 2.0}
    """
    rule = _weight_scheme(scheme)
    classes, counts = np.unique(_as_labels(labels), return_counts=True)
    weights = rule(classes, counts.astype(float))
    return {str(c): float(w) for c, w in zip(classes, weights, strict=True)}
