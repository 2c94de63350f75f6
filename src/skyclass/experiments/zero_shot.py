"""Zero-shot scores: a classifier trained elsewhere, on real surveys it never saw.

A fitted one-band classifier (the shipped ``general`` model, trained on
simulated curves only, say) is scored on the real shared sets without any
training on them. Each set's curves are read, cleaned as the leaderboard cleans
them (3σ outliers, a minimum number of epochs in each band), given a period (the
set's catalogue period where it has one, a period search otherwise;
``period="search"`` searches every curve), and each band is classified under the
model's band name; an object's bands are then joined into one prediction
(:func:`skyclass.pretrained.combine_band_tables`: the mean of the probabilities
of the bands not flagged unknown), as a user of a multi-band survey would
classify it. The model's predicted class (its arg-max) is mapped to the survey's
own labels by :data:`CLASS_MAP`; model classes a survey does not label go to
``other``, which is always wrong.

Class map (model class -> survey label; classes missing from a row are ``other``)

==============  ===========  ==================  ==============
model class     eros1_lmc    gaia_dr3_vari       ogle4_lmc_cep
==============  ===========  ==================  ==============
Cep_F           cepheid      CEP                 F
Cep_1O          cepheid      CEP                 1O
T2Cep           cepheid      CEP                 .
RRab, RRc       rr_lyrae     RR                  .
DSCT, GDOR      .            DSCT|GDOR|SXPHE     .
EA, EB, EW      binary       ECL                 .
Mira            mira         LPV                 .
SR              mira         LPV                 .
==============  ===========  ==================  ==============

The OGLE-III type names of ``skyclass demo``'s model (``Cep``, ``T2Cep``,
``RRLyr``, ``DSCT``, ``LPV``) map the same way; a survey label no model class
maps to is still scored (its recall is 0), and a set with fewer than two mapped
labels is skipped (``Cep`` has no mode: that model skips ``ogle4_lmc_cep``).
Only the curves whose survey label is in the map are scored (OGLE-IV: the F and
1O Cepheids; its double-mode stars are left out). Bands used: every band the
set's reader gives: EROS-1 ``R`` and ``B``, Gaia ``G``, OGLE-IV ``I``.

``benchmarks/zero_shot.py`` prints these scores for the whole sets;
``skyclass demo`` shows them on a slice of each set found.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from skyclass.datasets.shared import SHARED_SETS, shared_data_root
from skyclass.experiments.leaderboard import prepare_dataset
from skyclass.lightcurve import LightCurveSet
from skyclass.preprocess.period import fill_periods
from skyclass.pretrained import as_model_band, combine_band_tables

__all__ = [
    "CLASS_MAP",
    "CLEAN",
    "OTHER",
    "SETS",
    "available_sets",
    "measured_ogle3_rows",
    "real_set",
    "score",
    "score_model",
]

#: Cleaning of every real set (and of the simulated curves the ``general`` model saw).
CLEAN = [{"step": "outliers", "nsigma": 3.0}]

#: Per real set: its bands (every one its reader gives, all of them :func:`real_set`'s
#: default), the leaderboard's cleaning, and model class -> survey label.
SETS: dict[str, dict[str, Any]] = {
    "eros1_lmc": {
        "bands": ["R", "B"],
        "min_epochs": 50,
        "map": {
            **dict.fromkeys(["Cep_F", "Cep_1O", "T2Cep", "Cep"], "cepheid"),
            **dict.fromkeys(["RRab", "RRc", "RRLyr"], "rr_lyrae"),
            **dict.fromkeys(["EA", "EB", "EW", "ECL"], "binary"),
            **dict.fromkeys(["Mira", "SR", "LPV"], "mira"),
        },
    },
    "gaia_dr3_vari": {
        "bands": ["G"],
        "options": {"progress": False},
        "min_epochs": 30,
        "map": {
            **dict.fromkeys(["Cep_F", "Cep_1O", "T2Cep", "Cep"], "CEP"),
            **dict.fromkeys(["RRab", "RRc", "RRLyr"], "RR"),
            **dict.fromkeys(["EA", "EB", "EW", "ECL"], "ECL"),
            **dict.fromkeys(["Mira", "SR", "LPV"], "LPV"),
            **dict.fromkeys(["DSCT", "GDOR"], "DSCT|GDOR|SXPHE"),
        },
    },
    "ogle4_lmc_cep": {
        "bands": ["I"],
        "options": {"progress": False},
        "min_epochs": 50,
        "map": {"Cep_F": "F", "Cep_1O": "1O"},
    },
}
#: Model class -> survey label, per set.
CLASS_MAP = {name: s["map"] for name, s in SETS.items()}
#: The survey label of a model class the survey does not label (always a miss).
OTHER = "other"


def available_sets() -> list[str]:
    """The sets of :data:`SETS` found in the shared data folder (``SKYCLASS_SHARED_DATA``).

    Examples
    --------
    >>> set(available_sets()) <= set(SETS)
    True
    """
    root = shared_data_root()
    return [name for name in SETS if (root / SHARED_SETS[name][0]).exists()]


def real_set(
    name: str,
    model_band: str,
    *,
    bands: Sequence[str] | None = None,
    max_per_class: int | None = None,
    period: str = "auto",
    seed: int = 0,
    colour: bool = True,
) -> tuple[LightCurveSet, dict[str, Any]]:
    """The scored curves of shared set ``name``: its bands, cleaned, with periods.

    Parameters
    ----------
    name : str
        One of :data:`SETS`.
    model_band : str
        The name of the model's one band; a set read in one band is given it
        (:func:`~skyclass.pretrained.as_model_band` gives it to each band of a
        set read in several).
    bands : sequence of str, optional
        Of the set's ``bands`` (default: all). The minimum number of epochs holds in
        each.
    max_per_class : int, optional
        A draw (seeded by ``seed``) of at most this many curves per survey label.
    period : {"auto", "search"}
        The catalogue's period where there is one (``auto``) or a search for all.
    seed : int
        Of the draw.
    colour : bool
        False drops every catalogue colour column
        (:data:`~skyclass.represent.features.CATALOGUE_COLOURS`): the stars as a
        survey without colours would give them.

    Returns
    -------
    LightCurveSet, dict
        The curves whose survey label is in the set's map, and what preparing them
        did (:func:`~skyclass.experiments.leaderboard.prepare_dataset`'s record).
    """
    spec = SETS[name]
    bands = list(spec["bands"] if bands is None else bands)
    if not set(bands) <= set(spec["bands"]):
        raise ValueError(f"{name} has bands {spec['bands']}, not {bands}")
    lcs, info = prepare_dataset(
        name,
        options=spec.get("options"),
        bands=bands,
        clean=[*CLEAN, {"step": "min_epochs", "min_per_band": spec["min_epochs"]}],
        max_per_class=max_per_class,
        seed=seed,
    )
    labels = np.array([str(x) for x in lcs.labels])
    lcs = lcs.select(np.flatnonzero(np.isin(labels, sorted(set(spec["map"].values())))))
    if period == "search":
        lcs = fill_periods(lcs, period="search")
    if not colour:
        from skyclass.represent.features import CATALOGUE_COLOURS

        names = {
            n for spec in CATALOGUE_COLOURS for n in ([spec] if isinstance(spec, str) else spec)
        }
        lcs = lcs.with_objects(lcs.objects.drop(columns=sorted(names & set(lcs.objects))))
    return (as_model_band(lcs, model_band) if len(bands) == 1 else lcs), info


#: Gaia DR3 ``source_id`` over this is the star's HEALPix index (level 12, nested).
_GAIA_HEALPIX_DIVISOR = 2**35


def measured_ogle3_rows(
    sets: Sequence[str] | None = None,
    *,
    pool: pd.DataFrame | None = None,
    radius_arcsec: float = 1.0,
) -> pd.DataFrame:
    """The OGLE-III rows of the simulator's pools that may be stars of the real sets.

    A model trained on :func:`~skyclass.datasets.general.simulate_general` is
    measured on these sets; their stars' OGLE-III rows are to be left out of its
    simulation (``left_out=``), so that no measured star lends its period,
    amplitude, shape or colour to the training curves. Every star the set's
    reader gives is matched (not only those a scoring keeps). A row matches a star
    within ``radius_arcsec``. Gaia DR3 stars come without coordinates, but their
    ``source_id`` holds the HEALPix pixel (level 12, 0.86') where Gaia first found
    them: every row in that pixel or one of its eight neighbours matches, many
    more rows than the star's own.

    Parameters
    ----------
    sets : sequence of str, optional
        Names of :data:`SETS` (default: :func:`available_sets`).
    pool : DataFrame, optional
        Rows to match (``id``, ``ra``, ``dec``, ``class``); default every row of
        :func:`~skyclass.datasets.general.ogle3_pool`.
    radius_arcsec : float
        Match radius for the sets with coordinates.

    Returns
    -------
    DataFrame
        One row per match: ``set``, ``star`` (the set's id), ``row`` (the OGLE-III
        id), ``class`` (the simulated class of the row's pool) and ``field``.

    Raises
    ------
    ValueError
        A set other than Gaia DR3 has no ``ra`` and ``dec``.

    Examples
    --------
    >>> rows = measured_ogle3_rows([])
    >>> list(rows.columns)
    ['set', 'star', 'row', 'class', 'field']
    """
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    from skyclass.datasets import load_dataset
    from skyclass.datasets.general import ogle3_pool

    pool = ogle3_pool() if pool is None else pool
    found = []
    for name in available_sets() if sets is None else sets:
        o = load_dataset(name, **(SETS[name].get("options") or {})).objects
        if {"ra", "dec"} <= set(o.columns):
            rows = SkyCoord(pool["ra"].to_numpy(float), pool["dec"].to_numpy(float), unit="deg")
            stars = SkyCoord(o["ra"].to_numpy(float), o["dec"].to_numpy(float), unit="deg")
            i_star, i_row, _, _ = rows.search_around_sky(stars, radius_arcsec * u.arcsec)
        elif name == "gaia_dr3_vari":
            i_star, i_row = _same_gaia_pixel(o["id"].astype(np.int64).to_numpy(), pool)
        else:
            raise ValueError(f"{name} gives no ra and dec: its stars cannot be matched")
        ids = pool["id"].astype(str).to_numpy()
        found.append(
            pd.DataFrame(
                {
                    "set": name,
                    "star": o["id"].astype(str).to_numpy()[i_star],
                    "row": ids[i_row],
                    "class": pool["class"].to_numpy()[i_row],
                    "field": [r.split("-")[1] for r in ids[i_row]],
                }
            )
        )
    columns = ["set", "star", "row", "class", "field"]
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=columns)


def _same_gaia_pixel(source_id: np.ndarray, pool: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (star, row) of Gaia DR3 stars and pool rows in the same HEALPix pixel of
    level 12 (the source_id's) or one of its eight neighbours."""
    import astropy.units as u

    try:
        from astropy_healpix import HEALPix
    except ImportError as exc:
        raise ImportError(
            "matching Gaia DR3 stars needs astropy-healpix: pip install astropy-healpix"
        ) from exc
    grid = HEALPix(nside=2**12, order="nested")
    row_pixel = grid.lonlat_to_healpix(
        pool["ra"].to_numpy(float) * u.deg, pool["dec"].to_numpy(float) * u.deg
    )
    star_pixel = source_id // _GAIA_HEALPIX_DIVISOR
    around = np.vstack([star_pixel, grid.neighbours(star_pixel)])  # (9, n); -1: none
    pairs = pd.merge(
        pd.DataFrame({"star": np.tile(np.arange(star_pixel.size), 9), "pixel": around.ravel()}),
        pd.DataFrame({"row": np.arange(len(pool)), "pixel": row_pixel}),
        on="pixel",
    ).drop_duplicates()
    return pairs["star"].to_numpy(), pairs["row"].to_numpy()


def score(table: pd.DataFrame, truth: np.ndarray, mapping: dict[str, str]) -> dict[str, Any]:
    """Zero-shot scores from ``predict_table``'s rows and the survey labels ``truth``.

    Parameters
    ----------
    table : DataFrame
        :meth:`~skyclass.estimator.LightCurveClassifier.predict_table`'s output:
        ``predicted`` (None where a curve could not be represented) and, when the
        model has one, ``unknown``.
    truth : ndarray of str
        The survey label of every row.
    mapping : dict
        Model class -> survey label; other classes map to :data:`OTHER`.

    Returns
    -------
    dict
        ``n``, ``balanced_accuracy`` (mean recall over the survey labels; a label no
        class maps to scores 0), ``balanced_accuracy_unknown_as_miss``,
        ``unknown_share`` (and per label), ``recall``, ``not_represented`` and
        ``confusion`` (survey label by model class, a DataFrame of counts).

    Examples
    --------
    >>> table = pd.DataFrame({"predicted": ["RRab", "RRc", "EW", "SR"],
    ...                       "unknown": [False, True, False, False]})
    >>> truth = np.array(["RR", "RR", "ECL", "ECL"])
    >>> r = score(table, truth, {"RRab": "RR", "RRc": "RR", "EW": "ECL"})
    >>> r["recall"], r["balanced_accuracy"], r["balanced_accuracy_unknown_as_miss"]
    ({'ECL': 0.5, 'RR': 1.0}, 0.75, 0.5)
    """
    labels = sorted({str(t) for t in truth})
    ok = table["predicted"].notna().to_numpy()
    pred = np.full(len(table), "not represented", dtype=object)
    pred[ok] = [mapping.get(c, OTHER) for c in table["predicted"][ok]]
    unknown = (
        table["unknown"].fillna(False).to_numpy(bool)
        if "unknown" in table
        else np.zeros(len(pred), bool)
    )
    recall = {lab: float(np.mean(pred[truth == lab] == lab)) for lab in labels}
    recall_known = {
        lab: float(np.mean((pred[truth == lab] == lab) & ~unknown[truth == lab])) for lab in labels
    }
    counts = pd.crosstab(
        pd.Series(truth, name="survey label"),
        pd.Series(table["predicted"].fillna("not represented").to_numpy(), name="model class"),
    )
    return {
        "n": len(truth),
        "balanced_accuracy": float(np.mean(list(recall.values()))),
        "balanced_accuracy_unknown_as_miss": float(np.mean(list(recall_known.values()))),
        "unknown_share": float(np.mean(unknown)),
        "unknown_share_per_label": {lab: float(np.mean(unknown[truth == lab])) for lab in labels},
        "recall": recall,
        "not_represented": int((~ok).sum()),
        "confusion": counts,
    }


def score_model(
    est: Any,
    sets: Sequence[str] | None = None,
    *,
    max_per_class: int | None = None,
    period: str = "auto",
    seed: int = 0,
    first_band: bool = False,
    colour: bool = True,
) -> dict[str, dict[str, Any]]:
    """Zero-shot scores of a fitted one-band classifier on each real set.

    Parameters
    ----------
    est : LightCurveClassifier
        Fitted, on one band (e.g. ``LightCurveClassifier.pretrained("general")``).
    sets : sequence of str, optional
        Names of :data:`SETS` (default: :func:`available_sets`).
    max_per_class, period, seed, colour
        As for :func:`real_set`.
    first_band : bool
        Score each set's first band alone instead of every band joined.

    Returns
    -------
    dict
        Per set scored: :func:`score`'s dict plus ``band``, ``seconds``,
        ``period_sources`` (how many periods came from the catalogue or a search),
        ``missing`` (survey labels no model class maps to) and ``dropped_cleaning``.
        A set with fewer than two survey labels the model's classes map to is
        left out.

    Raises
    ------
    ValueError
        If the model reads more than one band.
    """
    if len(est.bands_) != 1:
        raise ValueError(
            f"the model reads bands {list(est.bands_)}; zero-shot scoring needs a one-band model"
        )
    classes = set(est.classes_)
    results: dict[str, dict[str, Any]] = {}
    for name in available_sets() if sets is None else sets:
        mapping = {c: lab for c, lab in SETS[name]["map"].items() if c in classes}
        if len(set(mapping.values())) < 2:
            continue
        wall = time.perf_counter()
        bands = SETS[name]["bands"][:1] if first_band else SETS[name]["bands"]
        lcs, info = real_set(
            name, est.bands_[0], bands=bands, max_per_class=max_per_class, period=period,
            seed=seed, colour=colour,
        )  # fmt: skip
        if len(bands) == 1:  # real_set gave it the model's band name
            table = est.predict_table(lcs)
        else:
            table = combine_band_tables(
                {b: est.predict_table(as_model_band(lcs, est.bands_[0], band=b)) for b in bands}
            )
        label = dict(zip(lcs.ids.astype(str), (str(x) for x in lcs.labels), strict=True))
        truth = np.array([label[str(i)] for i in table["object_id"]], dtype=object)
        r = score(table, truth, mapping)
        r["band"] = "+".join(bands)
        r["seconds"] = time.perf_counter() - wall
        r["period_sources"] = {
            str(k): int(v) for k, v in lcs.objects["period_source"].value_counts().items()
        }
        r["missing"] = sorted(set(SETS[name]["map"].values()) - set(mapping.values()))
        r["dropped_cleaning"] = info.get("dropped_cleaning")
        results[name] = r
    return results
