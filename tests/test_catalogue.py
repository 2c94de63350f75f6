"""Catalogue filters: hand-made tables, the seeded cap, and the OGLE-III class mapping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skyclass import DataError, LightCurve, LightCurveSet
from skyclass.preprocess.catalogue import (
    CatalogueFilter,
    CatalogueFilterConfig,
    ogle3_classes,
)

THESIS = {
    "min_detections": {"ndet_g": 50, "ndet_r": 50},
    "max_log_fap": {"log_fap_g": -3, "log_fap_r": -3},
    "min_r2": {"r2_g": 0.3, "r2_r": 0.3},
    "merge_labels": {"CEPII": "CEP"},
    "positive": ["period", "amplitude"],
}


def _table() -> pd.DataFrame:
    """Ten rows; the comment says which cut removes each (first cut that fails)."""
    rows = [
        # label   ndet_g ndet_r fap_g fap_r r2_g r2_r period amp
        ("RR", 80, 90, -5.0, -4.0, 0.9, 0.8, 0.5, 0.6),  # kept
        ("RR", 49, 90, -5.0, -4.0, 0.9, 0.8, 0.5, 0.6),  # min_detections (g)
        ("EA", 50, 50, -5.0, -4.0, 0.9, 0.8, 2.0, 0.3),  # kept: 50 is enough
        ("EA", 60, 60, -3.0, -4.0, 0.9, 0.8, 2.0, 0.3),  # max_log_fap: −3 is not < −3
        ("CEPII", 60, 60, -6.0, np.nan, 0.9, 0.8, 9.0, 0.7),  # max_log_fap: NaN fails
        ("CEPII", 60, 60, -6.0, -6.0, 0.9, 0.8, 9.0, 0.7),  # kept, becomes CEP
        ("CEP", 60, 60, -6.0, -6.0, 0.3, 0.8, 5.0, 0.7),  # min_r2: 0.3 is not > 0.3
        ("CEP", 60, 60, -6.0, -6.0, 0.5, 0.5, 0.0, 0.7),  # positive: period 0
        ("SR", 60, 60, -6.0, -6.0, 0.5, 0.5, 90.0, -0.1),  # positive: amplitude < 0
        ("SR", 60, 40, -6.0, -6.0, 0.5, 0.5, 90.0, 1.0),  # min_detections (r)
    ]
    columns = ["label", "ndet_g", "ndet_r", "log_fap_g", "log_fap_r", "r2_g", "r2_r"]
    return pd.DataFrame(rows, columns=[*columns, "period", "amplitude"], index=range(10, 20))


def test_thesis_cuts_hand_made_table():
    table = _table()
    before = table.copy()
    kept, report = CatalogueFilter(CatalogueFilterConfig(**THESIS)).apply(table)
    assert kept.index.tolist() == [10, 12, 15]
    assert kept["label"].tolist() == ["RR", "EA", "CEP"]
    assert report.to_dict("records") == [
        {"step": "input", "removed": 0, "remaining": 10},
        {"step": "min_detections", "removed": 2, "remaining": 8},
        {"step": "max_log_fap", "removed": 2, "remaining": 6},
        {"step": "min_r2", "removed": 1, "remaining": 5},
        {"step": "merge_labels", "removed": 0, "remaining": 5},
        {"step": "positive", "removed": 2, "remaining": 3},
    ]
    pd.testing.assert_frame_equal(table, before)  # input untouched


def test_unset_cuts_are_skipped_and_keep_labels_drops_the_rest():
    cfg = CatalogueFilterConfig(merge_labels={"CEPII": "CEP"}, keep_labels=["CEP", "SR"])
    kept, report = CatalogueFilter(cfg).apply(_table())
    assert report["step"].tolist() == ["input", "merge_labels", "keep_labels"]
    assert kept["label"].tolist() == ["CEP"] * 4 + ["SR"] * 2


@pytest.mark.parametrize(
    ("config", "column", "key"),
    [
        ({"min_detections": {"ndet_i": 50}}, "ndet_i", "min_detections"),
        ({"positive": ["amp"]}, "amp", "positive"),
        ({"cap_per_class": 3, "label_column": "type"}, "type", "label_column"),
    ],
)
def test_missing_column_names_the_config_key(config, column, key):
    with pytest.raises(DataError, match=rf"column '{column}' \(from the filter's '{key}'\)"):
        CatalogueFilter(CatalogueFilterConfig(**config)).apply(_table())


def _big(seed: int = 0) -> pd.DataFrame:
    labels = ["a"] * 50 + ["b"] * 8 + ["c"] * 20
    order = np.random.default_rng(seed).permutation(len(labels))
    return pd.DataFrame({"label": np.array(labels)[order], "x": np.arange(len(labels))})


def test_cap_is_reproducible_and_spares_small_classes():
    table = _big()
    f = CatalogueFilter(CatalogueFilterConfig(cap_per_class=10, seed=7))
    kept, report = f.apply(table)
    assert kept["label"].value_counts().to_dict() == {"a": 10, "c": 10, "b": 8}
    assert report["removed"].tolist() == [0, 40 + 10]
    assert kept.index.is_monotonic_increasing  # original order kept
    again, _ = f.apply(table)
    assert again.index.tolist() == kept.index.tolist()
    other, _ = CatalogueFilter(CatalogueFilterConfig(cap_per_class=10, seed=8)).apply(table)
    assert other.index.tolist() != kept.index.tolist()
    b = table.index[table["label"] == "b"]
    assert set(b) <= set(other.index) and set(b) <= set(kept.index)


def test_apply_set_selects_objects_and_records_the_report():
    table = _table().reset_index(drop=True)
    curves = [
        LightCurve(time=[0, 1], mag=[1, 2], err=[0.1, 0.1], band="g", id=f"o{i}")
        for i in range(len(table))
    ]
    lcs = LightCurveSet.from_lightcurves(curves, objects=table, meta={"survey": "t"})
    out = CatalogueFilter(CatalogueFilterConfig(**THESIS)).apply_set(lcs)
    assert out.ids.tolist() == ["o0", "o2", "o5"]
    assert out.labels.tolist() == ["RR", "EA", "CEP"]
    assert [r["removed"] for r in out.meta["catalogue_filter"]] == [0, 2, 2, 1, 0, 2]
    assert lcs.labels[5] == "CEPII"  # the input set is untouched
    with pytest.raises(DataError, match="removed all 10 objects"):
        CatalogueFilter(CatalogueFilterConfig(min_detections={"ndet_g": 1000})).apply_set(lcs)


# --------------------------------------------------------------- OGLE-III
def test_ogle3_classes_hand_made():
    cat = pd.DataFrame(
        {
            "type": ["Cep", "Cep", "T2Cep", "aCep", "DSCT", "RRLyr", "RRLyr", "RRLyr", "LPV"],
            "subtype": ["F", "12", "RVTau", "F", "-99.99", "RRab", "RRc", "RRd", "OSARG"],
        },
        index=list("abcdefghi"),
    )
    five = ogle3_classes(cat, "5class")
    assert five.index.tolist() == list("abcdefghi")
    assert five.tolist() == ["CEP", "CEP", "CEP", None, "DSCT", "RR", None, None, None]
    assert ogle3_classes(cat, "ogle10").tolist() == [
        *["CEP_F", None, "T2CEP", None, "DSCT", "RR", "RRc", "RRd", "OSARG"]
    ]
    with pytest.raises(DataError, match=r"valid schemes: \['5class', '10class', 'ogle10'\]"):
        ogle3_classes(cat, "3class")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="no 'subtype' column"):
        ogle3_classes(cat[["type"]])


@pytest.fixture(scope="module")
def ogle3() -> pd.DataFrame:
    from skyclass.datasets import load_ogle3_catalog

    return load_ogle3_catalog()[["id", "type", "subtype", "period", "amp_I"]]


def test_ogle3_classes_on_the_bundled_catalogue(ogle3):
    counts = {s: ogle3_classes(ogle3, s).value_counts().to_dict() for s in ("5class", "10class")}
    # CEP = 8,037 classical + 603 type II; LPV = 8,543 Mira + 46,589 SRV (no OSARG)
    assert counts["5class"] == {"LPV": 55_132, "RR": 31_382, "CEP": 8_640, "DSCT": 2_788}
    assert counts["10class"] == {
        "SR": 46_589,
        "RR": 31_382,
        "RRc": 10_122,
        "CEP": 8_640,
        "Mira": 8_543,
        "DSCT": 2_788,
    }
    ogle10 = ogle3_classes(ogle3, "ogle10")
    assert ogle10.nunique() == 10 and ogle10.value_counts().min() == 603  # T2CEP
    assert int(ogle10.isna().sum()) == 2_282  # multi-mode Cep, aCep, RRe, DPV, RCB


def test_thesis_pipeline_on_ogle3_catalogue(ogle3):
    # the thesis's balanced 5-class set, with what OGLE-III has: 4 classes of 1,000
    table = ogle3.assign(label=ogle3_classes(ogle3, "5class"))
    cfg = CatalogueFilterConfig(
        positive=["period", "amp_I"], keep_labels=["CEP", "DSCT", "RR", "LPV"], cap_per_class=1000
    )
    kept, report = CatalogueFilter(cfg).apply(table)
    assert kept["label"].value_counts().to_dict() == {c: 1000 for c in ("CEP", "DSCT", "LPV", "RR")}
    assert report["remaining"].iloc[-1] == 4000
    assert (kept["period"] > 0).all() and (kept["amp_I"] > 0).all()
