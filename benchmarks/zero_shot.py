"""Zero-shot scores of a classifier trained on simulated curves, on real surveys it never saw.

A model directory (``LightCurveClassifier.save``, or an ensemble's,
``EnsembleClassifier.save``) is scored on the real shared
sets without any training on them: each set's curves are read, cleaned as the
leaderboard cleans them (3σ outliers, a minimum number of epochs in each band),
given a period as the estimator does (the set's catalogue period where it has
one, a period search otherwise; ``--period search`` searches every curve), and
each band is classified under the model's band name (the model reads one band);
an object's bands are joined into one prediction, the mean of the probabilities
of the bands not flagged unknown (EROS-1 has R and B; ``--first-band`` scores the
first band alone). The model's predicted class (its arg-max) is then mapped to each
survey's own labels by :data:`CLASS_MAP` (model classes a survey does not label
go to ``other``, which is always wrong). Printed per set: balanced accuracy over
the survey's labels (an ``other`` prediction counts as a miss), the same with
curves flagged unknown counted as misses, the share of curves flagged unknown
(all of them belong to a known class), and the confusion of survey labels
against the model's own classes (the diagnosis: which simulated class each
real class is taken for).

The class map, the bands and the cleaning are those of
:mod:`skyclass.experiments.zero_shot` (its docstring holds the table).

``--train DIR`` first trains the model on simulated curves only
(:func:`skyclass.datasets.general.simulate_general`, ``--n-per-class`` curves of
each of its 14 classes, seed ``--seed``), cleaned as the real ones are, with
``foldnet`` on the folded grid plus survey-independent features (log period,
amplitude, Fourier ratios and phases, reduced χ², the catalogue colour where a
curve has one; no magnitude, epoch count or span, which say which survey a curve
comes from), and saves it in ``DIR``. The simulation leaves out the OGLE-III rows
of the stars of every shared set found
(:func:`skyclass.experiments.zero_shot.measured_ogle3_rows`), so that no scored
star lends its parameters to a training curve; without the shared data nothing
is left out, and the model is not the one whose scores the card gives. Run::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/zero_shot.py --train runs/general \
        --members 3 --n-per-class 1200 --seed 0
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/zero_shot.py --model runs/general

``--members 3`` trains three networks, seeds ``--seed``, ``--seed`` + 1 and
``--seed`` + 2, each on its own simulated draw, in ``member-<k>/`` of the folder,
and writes ``ensemble.json``: the folder is then one model, its networks'
probabilities averaged; ``--model runs/general/member-0`` scores one network.

``--compare`` scores nothing: it prints, per label, the median and 16th–84th
percentiles of per-curve quantities (:func:`curve_quantities`: epoch count,
span, visit clusters, magnitude, error, amplitude, period, Fourier parameters,
fit quality) of each real set beside the same for ``--n-per-class`` simulated
curves of every class seen through its survey profile (:data:`PROFILE`); the
diagnosis behind the profiles of :data:`skyclass.datasets.general.SURVEYS`::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/zero_shot.py --compare \
        --sets eros1_lmc gaia_dr3_vari --n-per-class 100 --seed 0

With ``--model DIR`` it also prints how that model classifies the simulated
curves of each profile::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/zero_shot.py --compare \
        --sets gaia_dr3_vari --n-per-class 100 --seed 0 --model src/skyclass/pretrained/general

``--separable SR NonPer`` trains a feature forest on those simulated classes
alone, through each set's profile with every period searched (4 folds), to tell
a confusion the sampling makes from one the model makes::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/zero_shot.py --separable SR NonPer \
        --sets gaia_dr3_vari --n-per-class 400 --seed 0

``--overlap`` scores nothing: it counts the stars of each set that have an
OGLE-III row in the simulator's parameter pools
(:func:`skyclass.datasets.general.ogle3_pool`), in all of them and in those
``--train`` draws from, which leave out those rows (Gaia DR3 stars match every row
in or next to their HEALPix pixel, more than their own; matching them, here and in
``--train``, needs ``astropy-healpix``)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/zero_shot.py --overlap

``--model A B C`` scores several saved models as one ensemble
(:class:`skyclass.estimator.EnsembleClassifier`: their probabilities averaged, a
curve flagged unknown when most of them flag it).
``--no-colour`` scores the sets without their catalogue colours (as a survey that
has none), to show what the model's optional colour input adds.
``--max-per-class N`` scores a seeded draw of at most N curves per survey label.
The model trained by that command (three networks, 1200 curves per class each,
seeds 0–2) ships with skyclass as ``general`` (:mod:`skyclass.pretrained`; its card
``card.md`` holds the scores); ``--model src/skyclass/pretrained/general`` scores
the shipped copy.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from skyclass.estimator import EnsembleClassifier, LightCurveClassifier
from skyclass.experiments.zero_shot import (
    CLEAN,
    SETS,
    available_sets,
    measured_ogle3_rows,
    real_set,
    score_model,
)
from skyclass.lightcurve import LightCurveSet
from skyclass.preprocess.period import fill_periods

#: Inputs of the zero-shot model: the folded grid and features a survey does not set.
GENERAL_INPUTS = {
    "grid": {"n": 128, "normalize": "standard", "cycles": 2},
    "features": {
        "features": [
            "log_period",
            "amplitude",
            "R21",
            "R31",
            "phi21",
            "phi31",
            "catalogue_colour",
        ],
        "extractors": ["ReducedChi2"],
    },
}


#: Simulated survey profile (:data:`skyclass.datasets.general.SURVEYS`) matching each real set.
PROFILE = {"eros1_lmc": "eros", "gaia_dr3_vari": "gaia", "ogle4_lmc_cep": "ogle"}
#: Per-curve quantities printed by ``--compare`` (see :func:`curve_quantities`).
QUANTITIES = (
    *("n_epochs", "span", "n_groups", "short_gaps", "mag", "err", "p90_amp"),
    *("group_rms", "log_period", "period_ratio"),
    *("amplitude", "R21", "R31", "phi21", "phi31", "r2", "log_chi2", "log_rchi2"),
)


def curve_quantities(lcs: LightCurveSet, reference: np.ndarray | None = None) -> pd.DataFrame:
    """Per-curve quantities of a one-band set whose ``period`` column is filled.

    ``n_epochs``, ``span`` (d), ``n_groups`` (runs of epochs less than 5 d
    apart), ``short_gaps`` (share of consecutive epochs under 0.5 d apart),
    ``group_rms`` (rms of the magnitudes about their visit's mean, a visit being
    epochs less than 0.5 d apart: scatter on timescales of hours), median
    ``mag`` and ``err``, ``p90_amp`` (5th to
    95th percentile of the magnitudes, no period needed), ``log_period``
    (log10 d of the period used), ``period_ratio`` (used over ``reference``, the
    truth where known), the Fourier fit at the period as the model's features
    see it (``amplitude`` peak to peak, ``R21``, ``R31``, ``phi21``, ``phi31``,
    ``r2`` the share of variance it explains, ``log_chi2`` log10 of its reduced
    χ²) and ``log_rchi2`` (log10 reduced χ² about the weighted mean: the
    ``ReducedChi2`` feature).
    """
    from skyclass.preprocess.fourier import fit_fourier_many

    period = lcs.objects["period"].to_numpy(float)
    fits = fit_fourier_many(lcs, period)
    rows = []
    for lc in lcs:
        w = 1.0 / np.square(lc.err)
        mean = np.sum(w * lc.mag) / np.sum(w)
        rchi2 = np.sum(w * np.square(lc.mag - mean)) / max(len(lc) - 1, 1)
        q5, q95 = np.percentile(lc.mag, [5, 95])
        order = np.argsort(lc.time)
        gaps = np.diff(lc.time[order])
        visit = np.concatenate([[0], np.cumsum(gaps >= 0.5)])
        size = np.bincount(visit)
        mean = np.bincount(visit, lc.mag[order]) / size
        resid = (lc.mag[order] - mean[visit])[size[visit] > 1]
        group_rms = np.sqrt(np.mean(resid**2) * resid.size / max(resid.size - np.sum(size > 1), 1))
        rows.append(
            (
                *(len(lc), lc.span, 1 + np.sum(gaps > 5.0), np.mean(gaps < 0.5)),
                *(np.median(lc.mag), np.median(lc.err), q95 - q5, np.log10(rchi2)),
                group_rms if resid.size else np.nan,
            )
        )
    columns = ["n_epochs", "span", "n_groups", "short_gaps", "mag", "err", "p90_amp", "log_rchi2"]
    columns.append("group_rms")
    out = pd.DataFrame(rows, columns=columns)
    out["log_period"] = np.log10(period)
    out["period_ratio"] = period / reference if reference is not None else np.nan
    for c in ("amplitude", "R21", "R31", "phi21", "phi31", "r2"):
        out[c] = fits[c].to_numpy(float)
    out["log_chi2"] = np.log10(fits["chi2_dof"].to_numpy(float))
    out["label"] = [str(x) for x in lcs.labels]
    return out


def _print_summary(q: pd.DataFrame, width: int = 6) -> None:
    """:func:`_summary` printed ``width`` quantities at a time."""
    table = _summary(q)
    for lo in range(0, table.shape[1], width):
        print("    " + table.iloc[:, lo : lo + width].to_string().replace("\n", "\n    "))


def _summary(q: pd.DataFrame) -> pd.DataFrame:
    """Median and 16th-84th percentiles of every quantity, one row per label."""
    cells = {}
    for name in QUANTITIES:
        g = q.groupby("label")[name]
        lo, med, hi = (g.quantile(x) for x in (0.16, 0.5, 0.84))
        fmt = "{:.0f}" if name in ("n_epochs", "span", "n_groups") else "{:.3g}"
        cells[name] = [
            f"{fmt.format(a)} [{fmt.format(b)},{fmt.format(c)}]" if np.isfinite(a) else "-"
            for a, b, c in zip(med, lo, hi, strict=True)
        ]
    return pd.DataFrame(cells, index=g.quantile(0.5).index)


def compare(
    name: str, *, n_per_class: int, seed: int, max_per_class: int | None, model: str | None = None
) -> None:
    """Print per-curve quantities of real set ``name`` beside its simulated survey profile.

    Real curves are prepared as the benchmark scores them (periods: the
    catalogue's, else searched); the simulated ones are ``n_per_class`` curves of
    each class seen through the matching profile (:data:`PROFILE`), cleaned the
    same way, with the period a user would have (``period``, searched where it is
    empty). Both for Gaia, whose real periods are all searched, a second
    simulated table with every period searched. Per label: median [16th, 84th
    percentiles] of :data:`QUANTITIES`; simulated classes are listed under the
    survey label they map to. With ``model`` (a saved one-band classifier), also
    how it classifies each simulated class: a confusion the simulation shares
    with the real set is the sampling's, not a gap between the two.
    """
    from skyclass.datasets.general import simulate_general
    from skyclass.preprocess.clean import CleanConfig, Cleaner

    spec = SETS[name]
    wide = {"display.width": 250, "display.max_columns": 30, "display.max_colwidth": 30}
    real, _ = real_set(
        name, "any", bands=spec["bands"][:1], max_per_class=max_per_class, period="auto",
        seed=seed,
    )  # fmt: skip
    if name == "eros1_lmc":  # the searched period against the catalogue's
        searched = fill_periods(
            real.with_objects(real.objects.assign(period=np.nan)), period="search"
        )
        ratio = searched.objects["period"].to_numpy(float) / real.objects["period"].to_numpy(float)
        lab = np.array([str(x) for x in real.labels])
        print(f"\n{name}: searched / catalogue period, share of curves per label")
        for one in sorted(set(lab)):
            r = ratio[lab == one]
            print(
                f"  {one:18s} same {np.mean(np.abs(r - 1) < 0.01):.2f}  half "
                f"{np.mean(np.abs(r - 0.5) < 0.01):.2f}  double {np.mean(np.abs(r - 2) < 0.02):.2f}"
            )
    with pd.option_context(*[x for kv in wide.items() for x in kv]):
        sources = real.objects["period_source"].value_counts().to_dict()
        print(f"\n{name} (real, {len(real)} curves, periods {sources}):")
        _print_summary(curve_quantities(real))
        _print_colours(real)
        sim = simulate_general(n_per_class, surveys=[PROFILE[name]], seed=seed)
        sim = Cleaner(
            CleanConfig(steps=[*CLEAN, {"step": "min_epochs", "min_per_band": spec["min_epochs"]}])
        ).transform_many(sim)
        truth = sim.objects["true_period"].to_numpy(float)
        if model is None:
            est = None
        else:
            members = load_members(model)
            est = members[0] if len(members) == 1 else EnsembleClassifier(members)
        modes = {"user": fill_periods(sim, period="auto")}
        if name == "gaia_dr3_vari":
            modes["searched"] = fill_periods(sim, period="search")
        for mode, one in modes.items():
            q = curve_quantities(one, truth)
            q["label"] = [f"{spec['map'].get(c, '-')}:{c}" for c in q["label"]]
            print(
                f"\n{name}: simulated profile {PROFILE[name]!r}, {len(one)} curves, periods {mode}"
            )
            _print_summary(q)
            if mode == "user":
                _print_colours(one, q["label"].to_numpy())
            if est is not None:
                table = est.predict_table(one)
                print(f"  {model} on them: simulated class (rows) by model class (columns)")
                print(pd.crosstab(q["label"].to_numpy(), table["predicted"].to_numpy()))


def _print_colours(lcs: LightCurveSet, labels: np.ndarray | None = None) -> None:
    """Median [5th, 95th percentile] of the catalogue colour per label, where there is one."""
    from skyclass.represent.features import catalogue_colour

    value = np.array([catalogue_colour(row) for row in lcs.objects.to_dict("records")])
    if not np.isfinite(value).any():
        return
    lab = np.array([str(x) for x in (lcs.labels if labels is None else labels)])
    print("  catalogue colour (the catalogue_colour feature): median [5th, 95th percentile], share")
    for one in sorted(set(lab)):
        v = value[lab == one]
        if np.isfinite(v).any():
            lo, med, hi = np.nanpercentile(v, [5, 50, 95])
            print(f"    {one:22s} {med:5.2f} [{lo:5.2f}, {hi:5.2f}]  {np.isfinite(v).mean():.2f}")


def separable(name: str, classes: list[str], *, n_per_class: int, seed: int) -> float:
    """How well a feature forest tells simulated ``classes`` apart through set ``name``'s profile.

    ``n_per_class`` curves of each class seen through the matching profile
    (:data:`PROFILE`), cleaned as the real set is, every period searched (as a
    user without a catalogue would), 4 stratified folds by object (seed
    ``seed``); prints and returns the mean balanced accuracy of
    :class:`skyclass.baselines.FeatureForest` over the test folds. A confusion
    that a forest trained on these classes alone cannot undo is the sampling's.
    """
    from skyclass.baselines import FeatureForest
    from skyclass.datasets.general import simulate_general
    from skyclass.evaluate.metrics import balanced_accuracy
    from skyclass.preprocess.clean import CleanConfig, Cleaner
    from skyclass.training import stratified_kfold

    spec = SETS[name]
    sim = simulate_general(n_per_class, classes=classes, surveys=[PROFILE[name]], seed=seed)
    sim = sim.with_objects(sim.objects.assign(period=np.nan))
    sim = Cleaner(
        CleanConfig(steps=[*CLEAN, {"step": "min_epochs", "min_per_band": spec["min_epochs"]}])
    ).transform_many(sim)
    labels = np.array([str(x) for x in sim.labels])
    names, codes = np.unique(labels, return_inverse=True)
    scores = []
    for train_idx, test_idx in stratified_kfold(labels, 4, seed=seed):
        forest = FeatureForest(random_state=seed).fit(sim.select(train_idx))
        predicted = forest.predict_table(sim.select(test_idx))["predicted"].astype(str)
        scores.append(balanced_accuracy(codes[test_idx], np.searchsorted(names, predicted)))
    print(
        f"{name}: profile {PROFILE[name]!r}, {' vs '.join(classes)} ({len(sim)} simulated curves, "
        f"periods searched): forest balanced accuracy {np.mean(scores):.3f} "
        f"(folds {', '.join(f'{x:.3f}' for x in scores)})"
    )
    return float(np.mean(scores))


def overlap(sets: list[str]) -> None:
    """Print the stars of ``sets`` that have a row in the simulator's OGLE-III pools.

    First against every row (:func:`skyclass.datasets.general.ogle3_pool`), then
    against the pools ``--train`` draws from, which leave out the rows of every
    shared set found.
    """
    from skyclass.datasets import load_dataset
    from skyclass.datasets.general import ogle3_pool

    found = available_sets()
    if not found:
        raise SystemExit("no shared set found: set SKYCLASS_SHARED_DATA to the shared data folder")
    every = measured_ogle3_rows(found)
    kept = set(ogle3_pool(left_out=set(every["row"]))["id"].astype(str))
    after = every[every["row"].isin(kept)]
    print(
        f"OGLE-III pool rows: {len(ogle3_pool())}; left out by --train (stars of {found}): "
        f"{every['row'].nunique()}"
    )
    for name in (x for x in sets if x in found):
        n = len(load_dataset(name, **(SETS[name].get("options") or {})))
        print(f"{name}: {n} stars")
        for what, rows in (("every row", every), ("--train's pools", after)):
            m = rows[rows["set"] == name]
            by = m.drop_duplicates("star").groupby(["class", "field"]).size()
            detail = ", ".join(f"{c} {f} {k}" for (c, f), k in by.items())
            print(
                f"  {what:16s}: {m['star'].nunique():5d} stars with a row"
                + (f"  (by the row's class and field: {detail})" if detail else "")
            )


def load_members(path: str) -> list[LightCurveClassifier]:
    """The networks saved in ``path``: one, or an ensemble's members."""
    if (Path(path) / "ensemble.json").is_file():
        return EnsembleClassifier.load(path).members
    return [LightCurveClassifier.load(path)]


def train(
    out: str, *, n_per_class: int, seed: int, max_epochs: int | None, members: int = 1
) -> None:
    """Train the zero-shot model on simulated curves only and save it in ``out``: with
    ``members`` above 1, that many networks, seeds ``seed``, ``seed + 1``..., each on
    its own simulated draw, in ``out/member-<k>`` with ``ensemble.json`` naming them."""
    if members > 1:
        for k in range(members):
            seed_k = seed + k
            train(f"{out}/member-{k}", n_per_class=n_per_class, seed=seed_k, max_epochs=max_epochs)
        names = [f"member-{k}" for k in range(members)]
        EnsembleClassifier.write_listing(out, names, ["LightCurveClassifier"] * members)
        return
    from skyclass.datasets.general import simulate_general
    from skyclass.preprocess.clean import CleanConfig, Cleaner

    wall = time.perf_counter()
    sets = available_sets()
    left_out = set(measured_ogle3_rows(sets)["row"])
    print(
        f"left out of the simulation: {len(left_out)} OGLE-III rows of stars in {sets}"
        + ("" if sets else " (no shared set found: nothing left out)"),
        flush=True,
    )
    sim = simulate_general(n_per_class, left_out=left_out, seed=seed)
    sim = Cleaner(CleanConfig(steps=CLEAN)).transform_many(sim)
    print(f"simulated {len(sim)} curves ({n_per_class} per class, seed {seed})", flush=True)
    est = LightCurveClassifier(
        model="foldnet",
        representations=GENERAL_INPUTS,
        train={} if max_epochs is None else {"max_epochs": max_epochs},
        random_state=seed,
        progress=False,
    ).fit(sim)
    card = {
        "training_data": "SIMULATED curves only (skyclass.datasets.general.simulate_general)",
        "left_out_ogle3_rows": f"{len(left_out)} rows of the stars of {sets}",
        "command": f"benchmarks/zero_shot.py --train {out} --n-per-class {n_per_class} "
        f"--seed {seed}" + ("" if max_epochs is None else f" --max-epochs {max_epochs}"),
    }
    est.save(out, card=card)
    val = est.history_.records[-1]
    print(f"trained in {time.perf_counter() - wall:.0f} s; last epoch {val}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        nargs="+",
        help="a saved model directory (one network or an ensemble); several are averaged",
    )
    parser.add_argument("--train", metavar="DIR", help="train on simulated curves, save in DIR")
    parser.add_argument("--n-per-class", type=int, default=1200, help="simulated, for --train")
    parser.add_argument("--max-epochs", type=int, default=None, help="for --train")
    parser.add_argument(
        "--members",
        type=int,
        default=1,
        help="for --train: an ensemble of this many networks, seeds --seed, --seed + 1, ...",
    )
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--max-per-class", type=int, default=None)
    parser.add_argument("--period", choices=["auto", "search"], default="auto")
    parser.add_argument(
        "--first-band", action="store_true", help="each set's first band alone (EROS-1: R)"
    )
    parser.add_argument(
        "--no-colour",
        action="store_true",
        help="score without the sets' catalogue colours (as a survey without them)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulation and draws")
    parser.add_argument("--out", default=None, help="write the scores as JSON here")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="print per-curve quantities of the real sets beside their simulated profiles",
    )
    parser.add_argument(
        "--separable",
        nargs="+",
        metavar="CLASS",
        help="a feature forest on these simulated classes alone, through each set's profile",
    )
    parser.add_argument(
        "--overlap",
        action="store_true",
        help="count the scored stars that have a row in the simulator's OGLE-III pools",
    )
    args = parser.parse_args()
    if args.overlap:
        overlap(args.sets)
        return
    if args.separable:
        for name in args.sets:
            separable(name, args.separable, n_per_class=args.n_per_class, seed=args.seed)
        return
    if args.compare:
        for name in args.sets:
            compare(
                name, n_per_class=args.n_per_class, seed=args.seed,
                max_per_class=args.max_per_class, model=args.model and args.model[0],
            )  # fmt: skip
        return
    if (args.model is None) == (args.train is None):
        parser.error("give --model DIR (a saved model) or --train DIR (train one), not both")
    if args.members < 1:
        parser.error("--members must be at least 1")
    if args.members > 1 and not args.train:
        parser.error("--members goes with --train")
    if args.train:
        train(
            args.train, n_per_class=args.n_per_class, seed=args.seed,
            max_epochs=args.max_epochs, members=args.members,
        )  # fmt: skip
    models = args.model or [args.train]
    members = [member for m in models for member in load_members(m)]
    est = members[0] if len(members) == 1 else EnsembleClassifier(members)
    model = " + ".join(models)
    if len(est.bands_) != 1:
        raise SystemExit(
            f"the model reads bands {list(est.bands_)}; zero-shot needs a one-band model"
        )
    classes = list(est.classes_)
    print(
        f"model {model}: classes {classes}, band {est.bands_[0]!r}, period {args.period}"
        + (", catalogue colours left out" if args.no_colour else "")
    )
    results = {}
    for name in args.sets:
        scored = score_model(
            est, [name], max_per_class=args.max_per_class, period=args.period, seed=args.seed,
            first_band=args.first_band, colour=not args.no_colour,
        )  # fmt: skip
        if name not in scored:
            print(f"\n{name}: skipped, fewer than two of its labels have a model class")
            continue
        r = scored[name]
        print(
            f"\n{name} (band {r['band']}, {r['n']} curves, periods {r['period_sources']}, "
            f"{r['seconds']:.0f} s)"
        )
        if r["missing"]:
            print(f"  no model class maps to {r['missing']}: their recall is 0")
        print(
            f"  balanced accuracy {r['balanced_accuracy']:.3f}   with unknown as a miss "
            f"{r['balanced_accuracy_unknown_as_miss']:.3f}   flagged unknown "
            f"{r['unknown_share']:.1%}   not represented {r['not_represented']}"
        )
        for lab in sorted(r["recall"]):
            print(
                f"  {lab:18s} recall {r['recall'][lab]:.3f}  unknown "
                f"{r['unknown_share_per_label'][lab]:.1%}"
            )
        print("  survey label (rows) by model class (columns):")
        print("    " + r["confusion"].to_string().replace("\n", "\n    "))
        r["confusion"] = r["confusion"].to_dict(orient="index")
        results[name] = r
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1, default=int))


if __name__ == "__main__":
    main()
