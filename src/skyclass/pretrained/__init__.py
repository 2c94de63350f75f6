"""Models shipped with skyclass, loadable by name: trained on simulated curves only.

A shipped model is a directory written by
:meth:`LightCurveClassifier.save <skyclass.estimator.LightCurveClassifier.save>`
or, for several networks, :meth:`EnsembleClassifier.save
<skyclass.estimator.EnsembleClassifier.save>` (safetensors weights and JSON, never
pickle) inside this package, with a model
card ``card.md`` (taxonomy, inputs, the training command and seed, zero-shot
scores on real surveys). :data:`PRETRAINED` lists them:

``general``
    Three foldnet networks (an :class:`~skyclass.estimator.EnsembleClassifier`,
    their probabilities averaged) on the 14 classes of
    :data:`skyclass.datasets.general.GENERAL_CLASSES`, each trained on its own draw
    of :func:`~skyclass.datasets.general.simulate_general` curves seen through six
    survey profiles; it reads one band, named ``"any"``, and flags curves unlike
    its classes as unknown.

:meth:`LightCurveClassifier.pretrained
<skyclass.estimator.LightCurveClassifier.pretrained>` gives the fitted estimator
(this module only finds the files, so that it sits below the estimator),
:func:`as_model_band` gives a set the model's band name,
:func:`combine_band_tables` makes one prediction per object of the predictions of
each of its bands, :func:`resolve_model`
turns ``general``, ``pretrained:general`` or a directory into the model directory
(what ``skyclass classify --model`` and a run config's ``init`` take),
:func:`network_dir` finds one network in it (an ensemble's first member: what a
training run starts from), and
:meth:`EnsembleClassifier.fine_tune <skyclass.estimator.EnsembleClassifier.fine_tune>`
(:meth:`LightCurveClassifier.fine_tune
<skyclass.estimator.LightCurveClassifier.fine_tune>` for one network) trains a
shipped model further on labelled curves.

Examples
--------
>>> list_pretrained()
['general']
>>> sorted(p.parent.name for p in model_dir("general").glob("*/weights.safetensors"))
['member-0', 'member-1', 'member-2']
>>> model_dir("gen")
Traceback (most recent call last):
...
ValueError: no pretrained model 'gen'; the shipped ones are: general
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurveSet

__all__ = [
    "PREFIX",
    "PRETRAINED",
    "as_model_band",
    "card",
    "combine_band_tables",
    "list_pretrained",
    "model_dir",
    "network_dir",
    "resolve_model",
]

#: The shipped models: name -> what it is (its card ``card.md`` says more).
PRETRAINED: dict[str, str] = {
    "general": "3 foldnet networks, 14 variable-star classes, one band, simulated curves only",
}

#: How a run config's ``init`` names a shipped model (``init: pretrained:general``).
PREFIX = "pretrained:"


def list_pretrained() -> list[str]:
    """The names of the shipped models, sorted.

    Examples
    --------
    >>> list_pretrained()
    ['general']
    """
    return sorted(PRETRAINED)


def model_dir(name: str = "general") -> Path:
    """The directory holding shipped model ``name`` (weights, JSON and ``card.md``).

    An ensemble's directory holds ``ensemble.json`` and one folder per member
    (:meth:`EnsembleClassifier.save <skyclass.estimator.EnsembleClassifier.save>`).

    Raises
    ------
    ValueError
        ``name`` is not a shipped model; the message lists the shipped ones.

    Examples
    --------
    >>> (model_dir("general") / "ensemble.json").is_file()
    True
    """
    if name not in PRETRAINED:
        raise ValueError(
            f"no pretrained model {name!r}; the shipped ones are: {', '.join(list_pretrained())}"
        )
    return Path(__file__).parent / name


def card(name: str = "general") -> str:
    """The model card of shipped model ``name`` (Markdown): taxonomy, inputs, training, scores.

    Examples
    --------
    >>> "simulated curves only" in card("general")
    True
    """
    return (model_dir(name) / "card.md").read_text(encoding="utf-8")


def resolve_model(spec: str | PathLike[str]) -> Path:
    """The model directory that ``spec`` names: a shipped name, ``pretrained:NAME`` or a path.

    Raises
    ------
    ValueError
        ``spec`` is neither a shipped name nor an existing directory; the message
        lists the shipped names.

    Examples
    --------
    >>> resolve_model("pretrained:general") == resolve_model("general") == model_dir("general")
    True
    """
    text = str(spec)
    name = text.removeprefix(PREFIX)
    if text.startswith(PREFIX) or (name in PRETRAINED and not Path(text).is_dir()):
        return model_dir(name)
    if Path(text).is_dir():
        return Path(text)
    raise ValueError(
        f"{text!r} is neither a shipped model nor a model directory; the shipped ones are: "
        f"{', '.join(list_pretrained())} (or give the path of a saved model directory)"
    )


def network_dir(path: str | PathLike[str]) -> Path:
    """The directory of one network in model directory ``path``: ``path`` itself, or
    the first member of an ensemble (what a training run with ``init`` starts from).

    Examples
    --------
    >>> network_dir(model_dir("general")).name
    'member-0'
    """
    path = Path(path)
    listing = path / "ensemble.json"
    if not listing.is_file():
        return path
    try:
        info = json.loads(listing.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"not valid JSON ({exc})", source=str(listing)) from None
    members = info.get("members") if isinstance(info, dict) else None
    first = members[0] if isinstance(members, list) and members else None
    if not isinstance(first, str) or Path(first).name != first or first in {"", ".", ".."}:
        raise DataError("lists no member folder; save the ensemble again", source=str(listing))
    return path / first


def as_model_band(lcs: LightCurveSet, model_band: str, *, band: str | None = None) -> LightCurveSet:
    """``lcs`` reduced to one band, named ``model_band`` (the band a one-band model reads).

    The shipped models read one band named ``"any"``: a survey's own band (V, R, I,
    G...) is given that name. Objects without an epoch in the chosen band are left
    out and listed in the set's ``skipped``.

    Parameters
    ----------
    lcs : LightCurveSet
        Curves in one band or more.
    model_band : str
        The model's band name (``est.bands_[0]``).
    band : str, optional
        The band of ``lcs`` to use; needed when it has several and none is
        ``model_band``.

    Raises
    ------
    DataError
        ``band`` is not a band of ``lcs``, or ``lcs`` has several bands and no
        ``band`` was chosen; the message lists its bands.

    Examples
    --------
    >>> from skyclass import LightCurve
    >>> a = LightCurve(time=[0, 1, 2], mag=[10, 11, 10], err=[.1] * 3, band=["V", "I", "V"], id="a")
    >>> b = LightCurve(time=[0, 2], mag=[12, 12.5], err=[.2, .2], band="I", id="b")
    >>> s = as_model_band(LightCurveSet.from_lightcurves([a, b]), "any", band="V")
    >>> s.bands, s.n_epochs.tolist(), [x["id"] for x in s.skipped]
    (('any',), [2], ['b'])
    """
    if band is None:
        if model_band in lcs.bands:
            band = model_band
        elif len(lcs.bands) == 1:
            band = lcs.bands[0]
        else:
            raise DataError(
                f"the curves have bands {list(lcs.bands)} and the model reads one; choose "
                "which with band=... (skyclass classify --band B), or classify each band "
                "and join them (combine_band_tables; skyclass classify --band all)"
            )
    if band not in lcs.bands:
        raise DataError(f"no band {band!r} in the curves; their bands are {list(lcs.bands)}")
    if lcs.bands == (band,) and band == model_band:
        return lcs
    code = lcs.bands.index(band)
    in_band = np.concatenate([[0], np.cumsum(lcs.band == code)])[lcs.offsets]
    has = np.diff(in_band) > 0
    if not has.any():
        raise DataError(f"no curve has an epoch in band {band!r}")
    skipped = [
        {"id": str(i), "source": "as_model_band", "reason": f"no epochs in band {band!r}"}
        for i in lcs.ids[~has]
    ]
    if not has.all():
        lcs = lcs.select(np.flatnonzero(has))
    keep = lcs.band == code
    offsets = np.concatenate([[0], np.cumsum(keep)])[lcs.offsets]
    return LightCurveSet(
        time=lcs.time[keep],
        mag=lcs.mag[keep],
        err=lcs.err[keep],
        band=np.zeros(int(keep.sum()), dtype=np.int16),
        bands=(model_band,),
        offsets=offsets,
        objects=lcs.objects,
        meta={**lcs.meta, "skipped": [*lcs.skipped, *skipped]},
    )


def combine_band_tables(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One prediction per object from a one-band model's predictions of each band.

    A one-band model classifies each band of a multi-band survey as a curve of its
    own (:func:`as_model_band` with ``band=``); this joins those ``predict_table``
    outputs by ``object_id``. The probabilities are the mean over the bands that
    represented the object and did not flag it unknown (over all that represented
    it when every one did), the prediction is their most probable class, and the
    object is ``unknown`` only when every band flagged it: a band the model
    recognises is evidence enough, and one it does not recognise does not outvote
    it. ``ood_score`` is the smallest of the bands' scores, so that it exceeds the
    model's threshold (1 for an ensemble such as ``general``) exactly when the
    object is ``unknown``. Where no band
    represented the object, ``predicted`` is empty and ``error`` gives each band's
    reason. Other columns (an ensemble's spread, say) are not carried over.

    Because an object is flagged only when all its bands are, a two-band survey
    has fewer objects flagged than a one-band one at the same threshold.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Band name -> ``predict_table`` of the same classifier (``object_id``,
        ``predicted``, ``prob_<class>``..., optionally ``ood_score``, ``unknown``,
        ``error``), one row per object.

    Returns
    -------
    DataFrame
        ``object_id``, ``predicted``, ``prob_<class>``..., ``ood_score`` and
        ``unknown`` (when every table has them), ``bands`` (those averaged) and
        ``error``; objects in order of first appearance.

    Raises
    ------
    ValueError
        No table, tables of different classes or without ``prob_`` columns (a
        regressor's), or an object twice in one band.

    Examples
    --------
    >>> r = pd.DataFrame({"object_id": ["a", "b"], "predicted": ["RRab", None],
    ...                   "prob_RRab": [0.8, np.nan], "prob_EW": [0.2, np.nan],
    ...                   "unknown": [False, False], "error": ["", "no epochs"]})
    >>> b = pd.DataFrame({"object_id": ["a", "b"], "predicted": ["EW", "EW"],
    ...                   "prob_RRab": [0.4, 0.1], "prob_EW": [0.6, 0.9],
    ...                   "unknown": [False, False], "error": ["", ""]})
    >>> t = combine_band_tables({"R": r, "B": b})
    >>> t["predicted"].tolist(), t["prob_RRab"].round(2).tolist(), t["bands"].tolist()
    (['RRab', 'EW'], [0.6, 0.1], ['R,B', 'B'])
    """
    if not tables:
        raise ValueError("no band's predictions to combine")
    names = list(tables)
    probs = [c for c in tables[names[0]].columns if c.startswith("prob_")]
    if not probs:
        raise ValueError("the tables have no prob_<class> columns: combine a classifier's")
    for name, table in tables.items():
        if [c for c in table.columns if c.startswith("prob_")] != probs:
            raise ValueError(
                f"band {name!r} has other classes than band {names[0]!r}: combine the "
                "predictions of one model"
            )
        if table["object_id"].astype(str).duplicated().any():
            raise ValueError(f"band {name!r} has an object_id twice: one row per object")
    ids = pd.unique(pd.concat([t["object_id"].astype(str) for t in tables.values()]))
    aligned = {
        n: t.assign(object_id=t["object_id"].astype(str)).set_index("object_id").reindex(ids)
        for n, t in tables.items()
    }
    present = np.stack([np.isin(ids, tables[n]["object_id"].astype(str)) for n in names])
    used = np.stack([aligned[n]["predicted"].notna().to_numpy() for n in names])
    any_used = used.any(axis=0)
    flagged = all("unknown" in t.columns for t in tables.values())
    weight = used
    if flagged:
        flags = np.stack([aligned[n]["unknown"].fillna(True).to_numpy(bool) for n in names])
        known = used & ~flags
        weight = np.where(known.any(axis=0), known, used)
    stack = np.stack([aligned[n][probs].to_numpy(float) for n in names])
    stack[~weight] = 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = stack.sum(axis=0) / weight.sum(axis=0)[:, None]
    classes = np.array([c[len("prob_") :] for c in probs], dtype=object)
    best = np.argmax(np.where(any_used[:, None], mean, -np.inf), axis=1)
    out = pd.DataFrame({"object_id": ids})
    out["predicted"] = np.where(any_used, classes[best], None)
    out[probs] = mean
    if all("ood_score" in t.columns for t in tables.values()):
        scores = np.stack([aligned[n]["ood_score"].to_numpy(float) for n in names])
        out["ood_score"] = np.where(any_used, np.where(used, scores, np.inf).min(axis=0), np.nan)
    if flagged:
        out["unknown"] = any_used & ~known.any(axis=0)
    out["bands"] = [",".join(n for n, w in zip(names, col, strict=True) if w) for col in weight.T]
    reasons = []
    for n, here in zip(names, present, strict=True):
        error = aligned[n]["error"] if "error" in aligned[n] else pd.Series("", index=ids)
        reasons.append(
            np.where(here, error.fillna("").astype(str).replace("", "no reason given"), "absent")
        )
    out["error"] = [
        ""
        if any_used[i]
        else "; ".join(f"{n}: {r[i]}" for n, r in zip(names, reasons, strict=True))
        for i in range(len(ids))
    ]
    return out
