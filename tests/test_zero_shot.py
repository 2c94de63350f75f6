"""benchmarks/zero_shot.py: survey labels from a model's classes, scored by hand."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from skyclass.lightcurve import LightCurve, LightCurveSet

ROOT = Path(__file__).resolve().parents[1]


def _benchmark():
    spec = importlib.util.spec_from_file_location("zero_shot", ROOT / "benchmarks/zero_shot.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scores_map_model_classes_to_survey_labels():
    bench = _benchmark()
    mapping = bench.CLASS_MAP["gaia_dr3_vari"]
    table = pd.DataFrame(
        {
            "predicted": ["RRab", "RRc", "EW", "NonVar", "Mira", None],
            "unknown": [False, True, False, False, True, False],
        }
    )
    truth = np.array(["RR", "RR", "ECL", "ECL", "LPV", "LPV"], dtype=object)
    r = bench.score(table, truth, mapping)
    # recalls: RR 2/2, ECL 1/2 (NonVar is "other"), LPV 1/2 (one not represented)
    assert r["recall"] == {"ECL": 0.5, "LPV": 0.5, "RR": 1.0}
    assert r["balanced_accuracy"] == 2 / 3
    assert r["balanced_accuracy_unknown_as_miss"] == (1 / 2 + 1 / 2 + 0) / 3
    assert r["unknown_share"] == 2 / 6 and r["not_represented"] == 1
    assert r["confusion"].loc["ECL", "NonVar"] == 1
    # a label no model class maps to is a miss, not left out
    without_ecl = {c: lab for c, lab in mapping.items() if lab != "ECL"}
    assert bench.score(table, truth, without_ecl)["recall"]["ECL"] == 0.0


def test_every_mapped_class_is_in_the_general_taxonomy_or_the_demo_one():
    from skyclass.datasets.general import GENERAL_CLASSES

    bench = _benchmark()
    demo = {"Cep", "RRLyr", "ECL", "LPV", "DSCT", "T2Cep"}
    for mapping in bench.CLASS_MAP.values():
        assert set(mapping) <= set(GENERAL_CLASSES) | demo


def test_one_band_is_renamed_to_the_model_band():
    bench = _benchmark()
    lc = LightCurve(time=[0.0, 1.0, 2.0], mag=[15, 15.2, 15.1], err=[0.01] * 3, band="R", id="a")
    s = bench._as_band(LightCurveSet.from_lightcurves([lc], labels=["binary"]), "any")
    assert s.bands == ("any",) and s["a"].mag.tolist() == [15, 15.2, 15.1]
