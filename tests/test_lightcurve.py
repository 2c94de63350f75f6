"""The data model: hand-worked cases, invariants, splitting, and the Parquet round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skyclass import DataError, LightCurve, LightCurveSet, sanitize


def _curve(id: str, n: int = 5, band: str = "g", start: float = 0.0) -> LightCurve:
    t = start + np.arange(n, dtype=float)
    return LightCurve(time=t, mag=10 + 0.1 * t, err=np.full(n, 0.05), band=band, id=id)


def _set(n_per_class: int = 10, classes=("a", "b", "c")) -> LightCurveSet:
    curves, labels = [], []
    for c in classes:
        for i in range(n_per_class):
            curves.append(_curve(f"{c}{i}", n=3 + i % 4, band="gr"[i % 2]))
            labels.append(c)
    return LightCurveSet.from_lightcurves(curves, labels=labels, meta={"survey": "test"})


# ---------------------------------------------------------------- LightCurve
def test_lightcurve_is_immutable_and_copies_input():
    t = np.array([0.0, 1.0, 2.0])
    lc = LightCurve(time=t, mag=[1, 2, 3], err=[0.1, 0.1, 0.1], band="V", id="x")
    t[0] = -5.0
    assert lc.time[0] == 0.0
    with pytest.raises(ValueError):
        lc.mag[0] = 7.0
    with pytest.raises(AttributeError):
        lc.id = "y"  # type: ignore[misc]
    with pytest.raises(TypeError):
        lc.meta["k"] = 1  # type: ignore[index]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"time": [1.0, 0.0]}, "not sorted"),
        ({"time": [0.0, 0.0]}, "share a time"),
        ({"mag": [1.0, np.nan]}, "NaN"),
        ({"err": [0.1, -0.1]}, "zero or negative"),
        ({"err": [0.1, np.nan]}, "NaN or infinite"),
        ({"time": [0.0, 1.0, 2.0]}, "one length"),
        ({"time": [], "mag": [], "err": []}, "no epochs"),
    ],
)
def test_lightcurve_rejects_bad_arrays_naming_object_and_fix(kwargs, message):
    args = {"time": [0.0, 1.0], "mag": [1.0, 2.0], "err": [0.1, 0.1], "band": "V", "id": "s1"}
    args.update(kwargs)
    with pytest.raises(DataError, match=message) as info:
        LightCurve(**args)
    assert "[s1]" in str(info.value) and "sanitize" in str(info.value)


def test_same_time_in_two_bands_is_allowed_and_missing_errors_are_nan():
    lc = LightCurve(time=[0.0, 0.0], mag=[1, 2], err=[np.nan, np.nan], band=["g", "r"])
    assert lc.bands == ("g", "r") and not lc.has_errors


def test_select_band_and_replace_merge_meta():
    lc = LightCurve(
        time=[0, 1, 2, 3], mag=[1, 2, 3, 4], err=[0.1] * 4, band=list("grgr"), meta={"a": 1}
    )
    g = lc.select_band("g")
    assert g.time.tolist() == [0.0, 2.0] and g.meta["a"] == 1
    assert lc.replace(meta={"b": 2}).meta == {"a": 1, "b": 2}
    with pytest.raises(DataError, match=r"bands \['g', 'r'\]"):
        lc.select_band("i")


# ------------------------------------------------------------------ sanitize
def test_sanitize_hand_worked():
    lc = sanitize(
        time=[3.0, 1.0, 2.0, 2.0, np.inf, 5.0, 6.0],
        mag=[13.0, 11.0, 12.0, 12.0, 1.0, np.nan, 16.0],
        err=[0.3, 0.1, 0.2, 0.2, 0.1, 0.1, 0.0],
        band="V",
        id="o",
    )
    assert lc.time.tolist() == [1.0, 2.0, 3.0]
    assert lc.mag.tolist() == [11.0, 12.0, 13.0]
    assert dict(lc.meta["dropped"]) == {
        "nonfinite": 2,
        "missing": 0,
        "implausible": 0,
        "bad_err": 1,
        "duplicate": 1,
    }


def test_sanitize_text_in_numbers_and_single_epoch():
    lc = sanitize(["0", "1", "x", "3"], ["10", "11", "12", "oops"], ["0.1"] * 4, band="r")
    assert lc.time.tolist() == [0.0, 1.0]
    with pytest.raises(DataError, match="only 1 good epoch"):
        sanitize([0.0], [1.0], [0.1], id="lonely")
    with pytest.raises(DataError, match="holds no numbers"):
        sanitize(["a", "b"], [1.0, 2.0])


def test_sanitize_does_not_mutate_input():
    t = np.array([2.0, 1.0, 1.0])
    before = t.copy()
    sanitize(t, [1.0, 2.0, 2.0], [0.1, 0.1, 0.1])
    assert np.array_equal(t, before)


# -------------------------------------------------------------- LightCurveSet
def test_set_roundtrips_curves_and_selection():
    s = _set()
    assert len(s) == 30 and s.bands == ("g", "r")
    lc = s["b3"]
    assert lc.id == "b3" and lc.meta["label"] == "b" and len(lc) == 6
    sub = s[[5, 0]]
    assert sub.ids.tolist() == ["a5", "a0"]
    assert np.array_equal(sub[0].mag, s[5].mag)
    assert [c.id for c in s[s.labels == "c"]][:2] == ["c0", "c1"]
    assert s.select(["c1", "a2"]).ids.tolist() == ["c1", "a2"]
    assert s.class_counts().to_dict() == {"a": 10, "b": 10, "c": 10}
    assert s.epochs_per_band().sum().sum() == s.time.size


def test_with_objects_keeps_ids():
    s = _set(n_per_class=2)
    with pytest.raises(DataError, match="keep the ids"):
        s.with_objects(s.objects.iloc[::-1])


def test_set_rejects_duplicate_ids():
    with pytest.raises(DataError, match="unique"):
        LightCurveSet.from_lightcurves([_curve("x"), _curve("x")])


def test_split_is_disjoint_stratified_and_seeded():
    s = _set(n_per_class=20)
    parts = s.split((0.6, 0.1, 0.3), seed=3)
    ids = [set(p.ids) for p in parts.values()]
    assert sum(map(len, ids)) == len(s) and not (ids[0] & ids[1] or ids[0] & ids[2])
    assert parts["train"].class_counts().to_dict() == {"a": 12, "b": 12, "c": 12}
    assert parts["test"].class_counts().to_dict() == {"a": 6, "b": 6, "c": 6}
    again = s.split((0.6, 0.1, 0.3), seed=3)
    assert again["test"].ids.tolist() == parts["test"].ids.tolist()
    other = s.split((0.6, 0.1, 0.3), seed=4)
    assert other["test"].ids.tolist() != parts["test"].ids.tolist()


def test_split_keeps_groups_together():
    s = _set(n_per_class=20)
    s = s.with_objects(s.objects.assign(star=[i // 2 for i in range(len(s))]))
    parts = s.split((0.5, 0.5), names=("train", "test"), group="star", seed=0)
    train_stars = set(parts["train"].objects["star"])
    test_stars = set(parts["test"].objects["star"])
    assert not train_stars & test_stars


def test_parquet_roundtrip_is_exact(tmp_path):
    curves = [
        LightCurve(
            time=[0.0, 0.0, 1.5], mag=[1, 2, 3], err=[0.1, 0.2, 0.3], band=["g", "r", "g"], id="m"
        ),
        LightCurve(time=[2.0, 3.0], mag=[4.0, 5.0], err=[np.nan, np.nan], band="i", id="n"),
    ]
    objects = pd.DataFrame({"period": [0.5, np.nan], "fold": [1, 2]})
    s = LightCurveSet.from_lightcurves(
        curves, labels=["RR", None], objects=objects, meta={"survey": "x", "skipped": []}
    )
    back = LightCurveSet.read_parquet(s.to_parquet(tmp_path / "s.parquet"))
    assert back.equals(s)
    assert back["m"].band.tolist() == ["g", "r", "g"]
    assert not back["n"].has_errors


def test_parquet_is_a_nested_frame(tmp_path):
    npd = pytest.importorskip("nested_pandas")
    s = _set(n_per_class=2)
    frame = npd.read_parquet(s.to_parquet(tmp_path / "s.parquet"))
    assert "lightcurve" in frame.nested_columns
    flat = frame["lightcurve"].nest.to_flat()
    assert list(flat.columns) == ["time", "mag", "err", "band"] and len(flat) == 21
    assert np.array_equal(flat["mag"].to_numpy(), s.mag)


def test_read_parquet_errors_name_the_file(tmp_path):
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"PAR1 not really")
    with pytest.raises(DataError, match="broken.parquet"):
        LightCurveSet.read_parquet(bad)
    plain = tmp_path / "plain.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(plain)
    with pytest.raises(DataError, match="skyclass convert"):
        LightCurveSet.read_parquet(plain)
    with pytest.raises(DataError, match="not found"):
        LightCurveSet.read_parquet(tmp_path / "missing.parquet")


def test_summary_counts():
    summary = _set(n_per_class=4).summary()
    assert summary["n_objects"] == 12 and summary["classes"] == {"a": 4, "b": 4, "c": 4}
    assert summary["epochs_per_curve"] == {"min": 3.0, "median": 4.5, "max": 6.0}


def test_summary_of_a_regression_target():
    curves = [_curve(str(i)) for i in range(3)]
    s = LightCurveSet.from_lightcurves(curves, labels=[-1.5, np.nan, -0.5])
    summary = s.summary()
    assert summary["classes"] == {} and summary["n_unlabelled"] == 1
    assert summary["target"] == {"min": -1.5, "median": -1.0, "max": -0.5}


def test_concat_joins_sets_of_the_same_bands_and_names_a_mismatch():
    def one(i, band):
        lc = LightCurve(time=[0.0, 1.0], mag=[i, i + 1.0], err=[0.1, 0.1], band=band, id=f"s{i}")
        return LightCurveSet.from_lightcurves([lc], labels=[f"c{i}"])

    s = LightCurveSet.concat([one(1, "g"), one(2, "g"), one(3, "g")])
    assert s.ids.tolist() == ["s1", "s2", "s3"] and s.labels.tolist() == ["c1", "c2", "c3"]
    assert s.offsets.tolist() == [0, 2, 4, 6] and s[1].mag.tolist() == [2.0, 3.0]
    with pytest.raises(DataError, match="different bands"):
        LightCurveSet.concat([one(1, "g"), one(2, "r")])
    with pytest.raises(DataError, match="at least one"):
        LightCurveSet.concat([])
    with pytest.raises(DataError, match="unique"):
        LightCurveSet.concat([one(1, "g"), one(1, "g")])
