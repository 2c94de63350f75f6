"""dm–dt maps and folded-curve images: hand-worked cases, two implementations, no leak."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import skyclass.represent.dmdt as dmdt_module
from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve, LightCurveSet
from skyclass.preprocess.fold import fold
from skyclass.represent.base import Representation
from skyclass.represent.dmdt import (
    CARRARO2025_DM_EDGES,
    CARRARO2025_DT_EDGES,
    MAHABAL2017_DM_EDGES,
    MAHABAL2017_DT_EDGES,
    DmDt,
)
from skyclass.represent.image import FoldedImage

SMALL_GRID = {"dt_edges": [0.5, 1.5, 2.5, 3.5], "dm_edges": [-2.0, -1.0, 0.0, 1.0, 2.0]}


def _curve(seed: int, n: int = 120, *, period: float | None = 0.6, bands=("V",), lc_id=None):
    rng = np.random.default_rng(seed)
    time = np.sort(rng.uniform(0, 2500, n))
    time[1:] = np.maximum(time[1:], time[:-1] + 1e-3)  # strictly increasing
    mag = 15 + 0.4 * np.sin(2 * np.pi * time / (period or 1.0)) + rng.normal(0, 0.05, n)
    band = np.resize(np.array(bands), n)
    meta = {} if period is None else {"period": period}
    return LightCurve(
        time=time, mag=mag, err=np.full(n, 0.05), band=band, id=lc_id or f"s{seed}", meta=meta
    )


def _assert_batch_equal(a: dict, b: dict, key: str) -> None:
    np.testing.assert_array_equal(a[key], b[key])
    assert a[key].dtype == b[key].dtype == np.float32
    np.testing.assert_array_equal(a["valid"], b["valid"])
    assert a["errors"] == b["errors"]


# --------------------------------------------------------------------- dm–dt
@pytest.mark.parametrize("backend", ["numpy", "light_curve"])
def test_dmdt_three_points_counted_by_hand(backend):
    # pairs: (0,1) dt=1 dm=+1; (0,2) dt=3 dm=-1; (1,2) dt=2 dm=-2
    lc = LightCurve(time=[0.0, 1.0, 3.0], mag=[10.0, 11.0, 9.0], err=[0.1] * 3, band="V")
    counts = DmDt(**SMALL_GRID, norm="counts", backend=backend).transform(lc)["dmdt"]
    expected = np.zeros((1, 4, 3), np.float32)
    expected[0, 3, 0] = 1  # dm in [1, 2), dt in [0.5, 1.5)
    expected[0, 1, 2] = 1  # dm in [-1, 0), dt in [2.5, 3.5)
    expected[0, 0, 1] = 1  # dm in [-2, -1), dt in [1.5, 2.5)
    np.testing.assert_array_equal(counts, expected)
    pairs = DmDt(**SMALL_GRID, norm="pairs", backend=backend).transform(lc)["dmdt"]
    np.testing.assert_allclose(pairs, expected / 3)
    mahabal = DmDt(**SMALL_GRID, norm="mahabal", backend=backend).transform(lc)["dmdt"]
    np.testing.assert_array_equal(mahabal, expected * 85)  # floor(255 / 3 + 0.99999) = 85


@pytest.mark.parametrize("backend", ["numpy", "light_curve"])
def test_dmdt_cells_are_half_open(backend):
    # dt = 1.5 exactly goes to [1.5, 2.5); dm = 1 exactly to [1, 2); dt = 3.5 is outside
    lc = LightCurve(time=[0.0, 1.5, 3.5], mag=[0.0, 1.0, 0.5], err=[0.1] * 3, band="V")
    counts = DmDt(**SMALL_GRID, norm="counts", backend=backend).transform(lc)["dmdt"][0]
    assert counts[3, 1] == 1  # (0,1): dm=+1, dt=1.5
    assert counts[1, 1] == 1  # (1,2): dm=-0.5, dt=2.0
    assert counts.sum() == 2  # (0,2): dt=3.5 falls off the grid


def test_dmdt_absolute_by_hand():
    # |dm|: (0,1) 0.25 dt=1; (0,2) 0.5 dt=3; (1,2) 0.75 dt=2
    lc = LightCurve(time=[0.0, 1.0, 3.0], mag=[10.0, 10.25, 9.5], err=[0.1] * 3, band="V")
    rep = DmDt(
        dt_edges=SMALL_GRID["dt_edges"],
        dm_edges=[0, 0.1, 0.2, 0.3, 0.5, 1],
        absolute_dm=True,
        norm="counts",
    )
    counts = rep.transform(lc)["dmdt"][0]
    expected = np.zeros((5, 3))
    expected[2, 0] = expected[4, 2] = expected[4, 1] = 1
    np.testing.assert_array_equal(counts, expected)
    assert rep.backend == "numpy"


def test_numpy_equals_light_curve_on_a_random_curve():
    lc = _curve(3, n=400)
    maps = {
        backend: DmDt(norm="counts", backend=backend).transform(lc)["dmdt"]
        for backend in ("numpy", "light_curve")
    }
    assert maps["numpy"].sum() > 1000  # the grid catches many pairs
    np.testing.assert_array_equal(maps["numpy"], maps["light_curve"])


def test_numpy_blocks_give_the_same_counts(monkeypatch):
    lc = _curve(4, n=150)
    rep = DmDt.carraro2025(norm="counts")
    whole = rep.transform(lc)["dmdt"]
    monkeypatch.setattr(dmdt_module, "BLOCK_PAIRS", 37)  # many blocks of a few rows
    np.testing.assert_array_equal(rep.transform(lc)["dmdt"], whole)
    assert whole.sum() > 0


def test_presets_hold_the_published_edges():
    thesis = DmDt.carraro2025(bands=("g", "r"))
    assert thesis.output_shapes() == {"dmdt": (2, 11, 22)} and thesis.absolute_dm
    np.testing.assert_array_equal(thesis.dm_edges, CARRARO2025_DM_EDGES)
    assert CARRARO2025_DT_EDGES[0] == 1 / 145 and CARRARO2025_DT_EDGES[-1] == 4000
    mahabal = DmDt.mahabal2017()
    assert mahabal.output_shapes() == {"dmdt": (1, 22, 23)} and not mahabal.absolute_dm
    assert len(MAHABAL2017_DT_EDGES) == 24 and len(MAHABAL2017_DM_EDGES) == 23
    np.testing.assert_array_equal(mahabal.dm_edges, -mahabal.dm_edges[::-1])


def test_dmdt_bands_are_channels_and_a_missing_band_is_zero():
    lc = _curve(5, n=90, bands=("g", "r"))
    out = DmDt(bands=("g", "r", "i")).transform(lc)["dmdt"]
    assert out.shape == (3, 22, 23)
    assert not out[2].any() and out[0].any() and out[1].any()
    alone = DmDt().transform(lc.select_band("r"))["dmdt"][0]
    np.testing.assert_array_equal(out[1], alone)  # pairs never mix bands


def test_dmdt_refuses_what_it_cannot_map():
    with pytest.raises(DataError, match="bands="):
        DmDt().transform(_curve(6, bands=("g", "r")))
    with pytest.raises(DataError, match="phase-folded"):
        DmDt().transform(fold(_curve(6), 0.6))
    with pytest.raises(DataError, match="two epochs"):
        DmDt().transform(LightCurve(time=[1.0], mag=[2.0], err=[0.1], band="V"))
    with pytest.raises(ValueError, match="choose one of"):
        DmDt(norm="log")
    with pytest.raises(ValueError, match="signed"):
        DmDt(absolute_dm=True, backend="light_curve")
    with pytest.raises(ValueError, match="ascending"):
        DmDt(dt_edges=[1.0, 1.0, 2.0])


# -------------------------------------------------------------------- image
def test_image_two_points_light_exactly_the_expected_pixels():
    lc = LightCurve(
        time=[0.0, 0.25], mag=[10.0, 11.0], err=[0.1, 0.1], band="V", meta={"period": 1.0}
    )
    image = FoldedImage(radius=0).transform(lc)["folded_image"]
    assert image.shape == (1, 128, 128) and image.dtype == np.float32
    # phase 0 -> column 0, phase 0.25 -> column 32; brighter (10 mag) on row margin=2,
    # fainter on row 127 - 2
    assert sorted(map(tuple, np.argwhere(image[0]).tolist())) == [(2, 0), (125, 32)]
    assert image.sum() == 2
    disk = FoldedImage(radius=1).transform(lc)["folded_image"][0]
    lit = {tuple(p) for p in np.argwhere(disk).tolist()}
    assert lit == {
        (2, 0), (1, 0), (3, 0), (2, 1), (2, 127),  # the disk wraps in phase
        (125, 32), (124, 32), (126, 32), (125, 31), (125, 33),
    }  # fmt: skip


def test_image_brighter_is_up():
    lc = LightCurve(
        time=[0.0, 0.3, 0.6], mag=[12.0, 10.0, 11.0], err=[0.1] * 3, band="V", meta={"period": 1.0}
    )
    image = FoldedImage(radius=0).transform(lc)["folded_image"][0]
    rows = {int(c): int(r) for r, c in np.argwhere(image)}
    brightest, faintest, middle = rows[38], rows[0], rows[76]  # columns of phases .3, 0, .6
    assert brightest < middle < faintest


def test_image_cycles_two_folds_on_twice_the_period():
    lc = LightCurve(
        time=[0.0, 1.5], mag=[10.0, 11.0], err=[0.1] * 2, band="V", meta={"period": 1.0}
    )
    one = np.argwhere(FoldedImage(radius=0).transform(lc)["folded_image"][0])[:, 1]
    two = np.argwhere(FoldedImage(radius=0, cycles=2).transform(lc)["folded_image"][0])[:, 1]
    assert sorted(one) == [0, 64] and sorted(two) == [0, 96]


def test_image_of_a_folded_curve_equals_the_image_of_the_curve():
    lc = _curve(7, n=200)
    for cycles in (1, 2):
        rep = FoldedImage(cycles=cycles, values="density")
        direct = rep.transform(lc)["folded_image"]
        np.testing.assert_array_equal(
            rep.transform(fold(lc, 0.6, cycles=cycles))["folded_image"], direct
        )
        assert direct.max() == 1.0 and direct.min() == 0.0
    with pytest.raises(DataError, match="cycle"):
        FoldedImage(cycles=2).transform(fold(lc, 0.6))


def test_image_without_period_is_invalid_in_batch_and_an_error_alone():
    good, bad = _curve(8), _curve(9, period=None)
    with pytest.raises(DataError, match="period"):
        FoldedImage().transform(bad)
    out = FoldedImage().transform_many([good, bad])
    assert out["valid"].tolist() == [True, False]
    assert "period" in out["errors"][bad.id]
    assert not out["folded_image"][1].any() and out["folded_image"][0].any()


def test_image_bands():
    lc = _curve(10, bands=("B", "R"))
    with pytest.raises(DataError, match="band="):
        FoldedImage().transform(lc)
    with pytest.raises(DataError, match="no epochs in band"):
        FoldedImage(band="I").transform(lc)
    np.testing.assert_array_equal(
        FoldedImage(band="R").transform(lc)["folded_image"],
        FoldedImage().transform(lc.select_band("R"))["folded_image"],
    )


# ------------------------------------------------------- both representations
REPRESENTATIONS = [
    ("dmdt", DmDt.mahabal2017()),
    ("dmdt", DmDt.carraro2025(bands=("B", "R"))),
    ("dmdt", DmDt(bands=("B", "R"), backend="numpy")),
    ("folded_image", FoldedImage(band="R")),
    ("folded_image", FoldedImage(band="R", cycles=2, values="density", radius=0)),
]


def _mixed_curves() -> list[LightCurve]:
    curves = [_curve(20 + k, n=40 + 30 * k, bands=("B", "R")) for k in range(5)]
    curves.append(_curve(30, period=None, bands=("B", "R")))  # no period: image invalid
    curves.append(_curve(31, n=60, bands=("R",)))  # no B: zero dm–dt channel
    curves.append(LightCurve(time=[1.0], mag=[1.0], err=[0.1], band="R", id="one"))
    return curves


@pytest.mark.parametrize(("key", "rep"), REPRESENTATIONS)
def test_batch_equals_singles_for_lists_and_sets(key, rep):
    curves = _mixed_curves()
    singles = Representation.transform_many(rep, curves)  # the base loop over transform
    assert singles["valid"].any()
    _assert_batch_equal(rep.transform_many(curves), singles, key)
    lcs = LightCurveSet.from_lightcurves(curves, labels=list("abcdefgh"), objects=_periods(curves))
    _assert_batch_equal(rep.transform_many(lcs), singles, key)
    _assert_batch_equal(rep.transform_many(iter(curves)), singles, key)
    empty = rep.transform_many([])
    assert empty[key].shape == (0, *rep.output_shapes()[key])


def _periods(curves):
    import pandas as pd

    return pd.DataFrame({"period": [lc.meta.get("period", np.nan) for lc in curves]})


@pytest.mark.parametrize(("key", "rep"), REPRESENTATIONS)
def test_a_curve_map_does_not_depend_on_other_curves_or_labels(key, rep):
    """The carraro2025 leak: a map built from other stars of the same class. Not here."""
    target = _curve(40, n=150, bands=("R",))
    alone = rep.transform(target)[key]
    others = [_curve(41 + k, n=80, bands=("R",)) for k in range(4)]
    batch = LightCurveSet.from_lightcurves(
        [*others[:2], target, *others[2:]], labels=["RR", "RR", "RR", "CEP", "CEP"]
    )
    batch = batch.with_objects(batch.objects.assign(period=[0.6] * 5))
    first = rep.transform_many(batch)[key][2]
    relabelled = batch.with_objects(batch.objects.assign(label=["EA"] * 5))
    second = rep.transform_many(relabelled)[key][2]
    changed = [
        lc.replace(mag=lc.mag * 1.5 - 3, meta={"period": 3.3}) for lc in (others[3], others[1])
    ]
    mixed = [changed[0], target, changed[1]]
    other_set = LightCurveSet.from_lightcurves(
        mixed, labels=["CEP", "RR", "DSCT"], objects=_periods(mixed)
    )
    third = rep.transform_many(other_set)[key][1]
    assert alone.any()
    for got in (first, second, third):
        assert np.array_equal(got, alone)
        assert got.tobytes() == alone.tobytes()  # bit-identical


@pytest.mark.parametrize(("key", "rep"), REPRESENTATIONS)
def test_inputs_are_not_mutated(key, rep):
    curves = _mixed_curves()
    lcs = LightCurveSet.from_lightcurves(curves, labels=list("abcdefgh"), objects=_periods(curves))
    before = [(lc.time.copy(), lc.mag.copy(), lc.band.copy(), dict(lc.meta)) for lc in curves]
    copy = LightCurveSet.from_lightcurves(curves, labels=list("abcdefgh"), objects=_periods(curves))
    rep.transform_many(lcs)
    rep.transform_many(curves)
    for lc in curves:
        with contextlib.suppress(DataError):
            rep.transform(lc)
    assert lcs.equals(copy)
    for lc, (t, m, b, meta) in zip(curves, before, strict=True):
        np.testing.assert_array_equal(lc.time, t)
        np.testing.assert_array_equal(lc.mag, m)
        np.testing.assert_array_equal(lc.band, b)
        assert dict(lc.meta) == meta


def test_mahabal_scale_rounds_occupied_cells_up():
    from skyclass.represent.dmdt import NORMS

    # 255 / 7 = 36.4 -> 37 (Mahabal's + 0.99999); an empty cell stays 0
    np.testing.assert_array_equal(NORMS["mahabal"](np.array([1.0, 0.0, 7.0]), 7), [37, 0, 255])


@pytest.mark.parametrize("rep", [DmDt(), FoldedImage(), FoldedImage(band="I")])
def test_set_errors_name_bands_as_singles_do(rep):
    curves = [_curve(50, bands=("R", "B")), _curve(51, bands=("B", "R"))]
    lcs = LightCurveSet.from_lightcurves(curves, objects=_periods(curves))
    assert lcs.bands == ("R", "B")
    out = rep.transform_many(lcs)
    assert out["errors"] == Representation.transform_many(rep, curves)["errors"]
    assert len(out["errors"]) == 2
