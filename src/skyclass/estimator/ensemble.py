"""``EnsembleClassifier``: fitted classifiers of the same classes, averaged, with their spread.

It is also kang2023's bagging ensemble: one net per bag, the nets' probabilities
averaged (:func:`skyclass.training.ensemble.average_probabilities`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from skyclass.estimator.base import SAVED_ESTIMATORS, RawPrediction, saved_estimator, top_class
from skyclass.exceptions import DataError

__all__ = ["EnsembleClassifier"]


@saved_estimator
class EnsembleClassifier(BaseEstimator):
    """Fitted classifiers of the same classes, averaged, with their disagreement per object.

    Light curves' periods are searched once for all members (when they take the
    period column where it is finite, ``period="auto"``) and each representation
    is computed once for the members that read it with the same settings.

    ``predict_table`` averages the members' (calibrated) probabilities and adds
    ``ensemble_std`` (the spread of the chosen class's probability across
    members), ``ensemble_disagreement`` (share of members whose own top class
    differs from the ensemble's) and ``conflict`` (some member disagrees); the
    object is ``unknown`` when most members flag it, and ``ood_score`` is the
    score over its threshold that most members reach (above 1 exactly when the
    object is ``unknown``: the ensemble's threshold is 1).
    ``save`` writes one directory per member and ``ensemble.json``;
    :func:`skyclass.predict.predict_catalogue` reads such a directory as one model.

    ``predict_proba`` and ``predict_raw`` average the members' ``predict_proba``
    object by object (NaN where a member could not represent the object), and
    ``period`` / ``period_options`` are the members' common settings, so the
    evaluation helpers (:func:`skyclass.evaluate.explain.phase_occlusion`,
    :func:`skyclass.study.bagging.score_ensemble`) take an ensemble as they take
    one estimator.

    Parameters
    ----------
    members : sequence of LightCurveClassifier or CutoutClassifier
        Fitted, with the same ``classes_`` (or unfitted, for :meth:`fit`).

    Examples
    --------
    >>> import numpy as np
    >>> from skyclass import LightCurve, LightCurveSet
    >>> from skyclass.estimator import LightCurveClassifier
    >>> rng = np.random.default_rng(0)
    >>> curves = [LightCurve(time=np.sort(rng.uniform(0, 50, 60)),
    ...                      mag=15 + rng.normal(0, 0.1 + 0.2 * (i % 2), 60),
    ...                      err=np.full(60, 0.05), band="V", id=str(i)) for i in range(24)]
    >>> s = LightCurveSet.from_lightcurves(curves, labels=["quiet", "noisy"] * 12)
    >>> s = s.with_objects(s.objects.assign(period=1.3))
    >>> members = [LightCurveClassifier(model="mlp_features", validation_fraction=0,
    ...                                 train={"max_epochs": 5}, random_state=k,
    ...                                 progress=False).fit(s) for k in range(2)]
    >>> table = EnsembleClassifier(members).predict_table(s)
    >>> {"ensemble_std", "ensemble_disagreement", "conflict"} <= set(table.columns)
    True
    >>> ens = EnsembleClassifier(members)
    >>> len(ens), ens.period, ens.predict_proba(s).shape
    (2, 'auto', (24, 2))
    """

    task: ClassVar[str] = "classification"

    def __init__(self, members: Any):
        self.members = members

    @property
    def classes_(self) -> tuple[str, ...]:
        """The members' common classes."""
        return self._common_classes()

    def _common_classes(self) -> tuple[str, ...]:
        """The classes every member was trained on.

        Raises
        ------
        ValueError
            The ensemble has no member.
        DataError
            The members were trained on different classes.
        """
        if not self.members:
            raise ValueError("an ensemble needs at least one member")
        classes = {tuple(m.classes_) for m in self.members}
        if len(classes) != 1:
            raise DataError(f"the members were trained on different classes: {sorted(classes)}")
        return classes.pop()

    def _common_setting(self, name: str) -> Any:
        """The members' common value of ``name`` (``period``, ``period_options``, ``bands_``).

        Raises
        ------
        DataError
            The members were built with different values.
        """
        if not self.members:
            raise ValueError("an ensemble needs at least one member")
        values = [getattr(m, name) for m in self.members]
        if any(v != values[0] for v in values[1:]):
            what = "bands" if name == "bands_" else f"{name} settings"
            raise DataError(
                f"the members were built with different {what}: {values}; an ensemble's "
                f"members must read the same bands and find periods the same way"
            )
        return values[0]

    @property
    def period(self) -> Any:
        """The members' common ``period`` setting (how each object's period is found)."""
        return self._common_setting("period")

    @property
    def period_options(self) -> Any:
        """The members' common ``period_options``."""
        return self._common_setting("period_options")

    @property
    def bands_(self) -> tuple[str, ...]:
        """The bands every member reads (they must read the same)."""
        return tuple(self._common_setting("bands_"))

    @property
    def progress(self) -> bool:
        """Whether the members show progress bars; setting it sets every member's."""
        return any(getattr(m, "progress", False) for m in self.members)

    @progress.setter
    def progress(self, value: bool) -> None:
        for m in self.members:
            m.progress = value

    @property
    def fit_report_(self) -> dict[str, Any]:
        """What was fitted: the number of members (each keeps its own ``fit_report_``)."""
        return {"n_members": len(self.members)}

    def __sklearn_is_fitted__(self) -> bool:
        return bool(self.members) and all(m.__sklearn_is_fitted__() for m in self.members)

    def __len__(self) -> int:
        return len(self.members)

    def fit(self, data: Any, *, val: Any = None) -> EnsembleClassifier:
        """Fit every member on ``data`` (each with its own parameters); returns ``self``.

        An ensemble is usually made of members fitted already; this fits the
        members of a :func:`sklearn.base.clone` of one.
        """
        for member in self.members:
            member.fit(data, val=val)
        self._common_classes()
        return self

    def fine_tune(
        self,
        lcs: Any,
        *,
        val: Any = None,
        train: Mapping[str, Any] | None = None,
        validation_fraction: float = 0.1,
        random_state: int = 0,
        run_dir: str | PathLike[str] | None = None,
        progress: bool = False,
        on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
    ) -> EnsembleClassifier:
        """An ensemble of every member fine-tuned on ``lcs``
        (:meth:`LightCurveClassifier.fine_tune
        <skyclass.estimator.LightCurveClassifier.fine_tune>`, whose parameters these
        are), each from its own weights on the same training and validation objects
        (periods searched once for all).

        ``run_dir`` gets one folder per member (``member-<k>``).

        Raises
        ------
        TypeError
            A member cannot be fine-tuned (a :class:`CutoutClassifier`).

        Examples
        --------
        >>> from skyclass.datasets.general import simulate_general
        >>> from skyclass.estimator import LightCurveClassifier
        >>> base = LightCurveClassifier.pretrained("general")
        >>> tuned = base.fine_tune(simulate_general(n_per_class=4, seed=2), train={"max_epochs": 1})
        >>> len(tuned), tuned.classes_ == base.classes_
        (3, True)
        """
        from skyclass.represent.cache import representation_cache

        self._common_classes()
        if bad := [type(m).__name__ for m in self.members if not hasattr(m, "fine_tune")]:
            raise TypeError(f"members of type {sorted(set(bad))} cannot be fine-tuned")
        lcs = self._with_periods(lcs)
        val = None if val is None else self._with_periods(val)
        with representation_cache():
            return type(self)(
                [
                    m.fine_tune(
                        lcs,
                        val=val,
                        train=train,
                        validation_fraction=validation_fraction,
                        random_state=random_state,
                        run_dir=None if run_dir is None else Path(run_dir) / f"member-{k}",
                        progress=progress,
                        on_epoch_end=on_epoch_end,
                    )
                    for k, m in enumerate(self.members)
                ]
            )

    def _with_periods(self, data: Any) -> Any:
        """``data`` with its periods found once for every member, when every member
        takes the period column where it is finite and searches it otherwise
        (``period="auto"``) with the same settings: then the members do not each
        search it again. Otherwise ``data`` as it is (each member finds its own).

        Raises
        ------
        DataError
            The curves lack a band the members read (before any search).
        """
        from skyclass.lightcurve import LightCurveSet
        from skyclass.preprocess.period import fill_periods

        if not isinstance(data, LightCurveSet):
            return data
        periods = {getattr(m, "period", None) for m in self.members}
        options = {json.dumps(dict(getattr(m, "period_options", None) or {}), sort_keys=True)
                   for m in self.members}  # fmt: skip
        if periods != {"auto"} or len(options) != 1:
            return data
        if missing := sorted(set(self.bands_) - set(data.bands)):
            raise DataError(
                f"the models were trained on bands {list(self.bands_)} but this set lacks "
                f"{missing}; give it curves in those bands"
            )
        return fill_periods(
            data, period="auto", options=json.loads(options.pop()), progress=self.progress
        )

    def member_probabilities(self, data: Any) -> list[np.ndarray]:
        """Each member's ``predict_proba(data)``: (N, n_classes), NaN rows where not represented."""
        from skyclass.represent.cache import representation_cache

        self._common_classes()
        data = self._with_periods(data)
        with representation_cache():  # members of the same inputs compute them once
            return [np.asarray(m.predict_proba(data), dtype=np.float64) for m in self.members]

    def predict_raw(self, data: Any, *, embedding: bool = False) -> RawPrediction:
        """The members' averaged probabilities, as a single estimator's ``predict_raw``.

        The ensemble has no network of its own: its outputs are the mean of the
        members' probabilities (calibrated where a member is), and an object is
        valid where every member represented it.

        Parameters
        ----------
        data : LightCurveSet or Cutouts
            What the members were fitted on, for new objects.
        embedding : bool
            Refused: the members' embeddings are not comparable, so not averaged.

        Returns
        -------
        RawPrediction
            ``outputs`` (N, n_classes) in ``classes_`` order, ``valid`` and no
            ``errors`` (ask a member's ``predict_table`` why an object failed).
        """
        from skyclass.training.ensemble import average_probabilities

        if embedding:
            raise ValueError(
                "an ensemble has no embedding of its own; ask a member's predict_raw for one"
            )
        mean = average_probabilities(self.member_probabilities(data))
        return RawPrediction(mean, np.isfinite(mean).all(axis=1), {})

    def predict_proba(self, data: Any) -> np.ndarray:
        """Averaged probabilities, (N, n_classes) in ``classes_`` order; NaN rows where
        a member could not represent the object."""
        return self.predict_raw(data).outputs

    def predict(self, data: Any) -> np.ndarray:
        """Class of highest averaged probability per object (None where not represented)."""
        return top_class(self.predict_proba(data), self.classes_)

    def predict_table(self, data: Any) -> pd.DataFrame:
        """One row per object: averaged probabilities, the prediction and the members' spread."""
        from skyclass.represent.cache import representation_cache
        from skyclass.training.ensemble import average_probabilities, ensemble_spread

        data = self._with_periods(data)
        with representation_cache():
            tables = [m.predict_table(data) for m in self.members]
        cols = [f"prob_{c}" for c in self.classes_]
        probas = [t[cols].to_numpy(float) for t in tables]
        mean = average_probabilities(probas)
        ok = np.isfinite(mean).all(axis=1)
        out = pd.DataFrame({"object_id": tables[0]["object_id"]})
        out["predicted"] = top_class(mean, self.classes_)
        for i, col in enumerate(cols):
            out[col] = mean[:, i]
        std = np.full(len(mean), np.nan)
        disagreement = np.full(len(mean), np.nan)
        if ok.any():
            spread = ensemble_spread([p[ok] for p in probas])
            std[ok], disagreement[ok] = spread["std_predicted"], spread["disagreement"]
        out["ensemble_std"] = std
        out["ensemble_disagreement"] = disagreement
        out["conflict"] = np.nan_to_num(disagreement) > 0
        if all("ood_score" in t.columns for t in tables):
            out["ood_score"], out["unknown"] = self._majority_score(tables)
        out["error"] = tables[0]["error"]
        return out

    def _majority_score(self, tables: list[pd.DataFrame]) -> tuple[np.ndarray, np.ndarray]:
        """The ensemble's unknown-class score and flag from its members' tables.

        Each member's score over its own threshold (above 1: that member flags the
        object); the score is the one that more than half the members reach (the
        ``n // 2 + 1``-th largest), so it is above 1 exactly when most members flag
        the object, which is the flag. Members without a threshold give the mean
        score and the majority of their flags.
        """
        scores = np.array([t["ood_score"].to_numpy(float) for t in tables])
        flags = np.array([t["unknown"].to_numpy(bool) for t in tables])
        limits = [getattr(getattr(m, "ood_", None), "threshold_", None) for m in self.members]
        if any(x is None or not x > 0 for x in limits):
            return scores.mean(axis=0), flags.mean(axis=0) > 0.5
        ratio = scores / np.asarray(limits, float)[:, None]
        ratio = np.where(np.isfinite(ratio), ratio, -np.inf)
        score = -np.sort(-ratio, axis=0)[len(tables) // 2]
        return np.where(np.isfinite(score), score, np.nan), flags.mean(axis=0) > 0.5

    def save(self, directory: str | PathLike[str]) -> Path:
        """``directory/member-<k>/`` per member and ``ensemble.json`` naming them."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        names = []
        for k, member in enumerate(self.members):
            names.append(f"member-{k}")
            member.save(directory / names[-1])
        self.write_listing(directory, names, [type(m).__name__ for m in self.members])
        return directory

    @staticmethod
    def write_listing(
        directory: str | PathLike[str], members: Sequence[str], estimators: Sequence[str]
    ) -> Path:
        """Write ``directory/ensemble.json``, the listing :meth:`listing` reads back.

        For members saved one by one (trained in separate runs, say); :meth:`save`
        writes the members and this listing together.

        Parameters
        ----------
        directory : str or path-like
            The ensemble's directory (it must exist).
        members : sequence of str
            The members' folder names inside ``directory``.
        estimators : sequence of str
            Each member's estimator class (``"LightCurveClassifier"``, ...).

        Returns
        -------
        pathlib.Path
            The listing written.

        Raises
        ------
        ValueError
            A member is not a plain folder name, or the two lists differ in length.

        Examples
        --------
        >>> import tempfile
        >>> d = tempfile.mkdtemp()
        >>> _ = EnsembleClassifier.write_listing(d, ["a", "b"], ["LightCurveClassifier"] * 2)
        >>> EnsembleClassifier.listing(d)["members"]
        ['a', 'b']
        """
        members, estimators = list(_as_names(members)), list(_as_names(estimators))
        if not _plain_folders(members) or len(estimators) != len(members):
            raise ValueError(
                f"an ensemble lists one plain folder name and one estimator per member; got "
                f"members {members} and estimators {estimators}"
            )
        path = Path(directory) / "ensemble.json"
        text = json.dumps({"members": members, "estimators": estimators}, indent=1)
        path.write_text(text + "\n", encoding="utf-8")
        return path

    @staticmethod
    def listing(directory: str | PathLike[str]) -> dict[str, list[str]]:
        """The members (folder names inside ``directory``) and their estimator classes,
        as ``ensemble.json`` lists them.

        Raises
        ------
        DataError
            ``ensemble.json`` is not JSON, or does not list one plain folder name and
            one estimator per member (named, with the fix).
        """
        path = Path(directory) / "ensemble.json"
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(
                f"not valid JSON ({exc}); save the ensemble again", source=str(path)
            ) from None
        members = info.get("members") if isinstance(info, dict) else None
        kinds = info.get("estimators") if isinstance(info, dict) else None
        plain = isinstance(members, list) and _plain_folders(members)
        if not plain or not isinstance(kinds, list) or len(kinds) != len(members):
            raise DataError(
                "must list 'members' (folder names inside the ensemble's directory) and one "
                "entry of 'estimators' per member; save the ensemble again",
                source=str(path),
            )
        return {"members": members, "estimators": [str(k) for k in kinds]}

    @classmethod
    def load(cls, directory: str | PathLike[str]) -> EnsembleClassifier:
        """Rebuild from :meth:`save`'s directory."""
        directory = Path(directory)
        info = cls.listing(directory)
        kinds = {k: SAVED_ESTIMATORS[k] for k in ("LightCurveClassifier", "CutoutClassifier")}
        members = []
        for name, kind in zip(info["members"], info["estimators"], strict=True):
            if kind not in kinds:
                raise DataError(f"unknown member estimator {kind!r}", source=str(directory))
            members.append(kinds[kind].load(directory / name))
        return cls(members)


def _as_names(values: Sequence[str]) -> Sequence[str]:
    """``values``, refused when one string was given for a sequence of them."""
    if isinstance(values, str):
        raise ValueError(f"expected a list of names, got the string {values!r}")
    return values


def _plain_folders(names: list[Any]) -> bool:
    """Whether every name is a plain folder name (no path, not ``.`` or ``..``)."""
    return all(
        isinstance(m, str) and m and Path(m).name == m and m not in {".", ".."} for m in names
    )
