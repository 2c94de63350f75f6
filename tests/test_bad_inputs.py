"""Every bad input a user brings, built at test time from real-looking rows.

For each case: either one clear line naming the file, the object and the fix, or the
bad object skipped with its reason while every other object is kept
(kept = given − bad).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from skyclass import LightCurve, LightCurveSet
from skyclass.io import read
from skyclass.preprocess.period import PeriodConfig, period_table

GIVEN = 12  # objects in every hand-made file
PERIOD = 2.5656  # days: a first-overtone Cepheid's


def cepheid_rows(n: int = GIVEN, n_epochs: int = 40, seed: int = 0) -> list[dict[str, Any]]:
    """OGLE-like I-band rows (HJD − 2450000, I, σI) of ``n`` pulsating stars, one dict each."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n):
        t = np.sort(5262.5 + rng.uniform(0, 400, n_epochs)).round(5)
        mag = 15.7 + 0.2 * np.sin(2 * np.pi * t / PERIOD + k) + rng.normal(0, 0.006, n_epochs)
        rows.append(
            {
                "id": f"OGLE-LMC-CEP-{k + 1:04d}",
                "time": t,
                "mag": mag.round(3),
                "err": np.full(n_epochs, 0.006),
            }
        )
    return rows


def canonical_table(rows: list[dict[str, Any]]) -> pa.Table:
    """The canonical layout of ``rows``, written as pyarrow would take a user's own lists."""
    curves = [
        LightCurve(time=r["time"], mag=r["mag"], err=r["err"], band="I", id=r["id"]) for r in rows
    ]
    return LightCurveSet.from_lightcurves(curves, labels=["1O"] * len(rows)).to_arrow()


def write_canonical(path: Path, edit) -> Path:
    """A canonical file of GIVEN good objects with one row changed by ``edit(row_dict)``."""
    table = canonical_table(cepheid_rows())
    records = table.to_pylist()
    edit(records[3]["lightcurve"])
    pq.write_table(pa.Table.from_pylist(records, schema=table.schema), path)
    return path


def _nan_mag(lc):
    lc["mag"][5] = float("nan")


def _reversed(lc):
    for key in ("time", "mag", "err", "band"):
        lc[key] = lc[key][::-1]


def _negative_err(lc):
    lc["err"][7] = -0.006


def _repeated_epoch(lc):
    for key in ("time", "mag", "err", "band"):
        lc[key] = [*lc[key][:10], lc[key][9], *lc[key][10:]]


def _implausible(lc):
    lc["mag"][2] = 1e30
    lc["mag"][30] = 1e30


def _sentinel(lc):
    lc["mag"][4] = 99.99
    lc["mag"][6] = -99.99


# ------------------------------------------------------------------ canonical Parquet
REPAIRED = {
    "nan magnitude": (_nan_mag, "nonfinite", 1),
    "reversed times": (_reversed, None, 0),
    "negative error": (_negative_err, "bad_err", 1),
    "repeated epoch": (_repeated_epoch, "duplicate", 1),
    "magnitude 1e30": (_implausible, "implausible", 2),
    "sentinels 99.99": (_sentinel, "implausible", 2),
}


@pytest.mark.parametrize("case", sorted(REPAIRED))
def test_canonical_bad_epochs_are_repaired_and_counted(tmp_path: Path, case: str) -> None:
    edit, key, n = REPAIRED[case]
    s = read(write_canonical(tmp_path / "set.parquet", edit))
    assert len(s) == GIVEN and not s.skipped
    lc = s["OGLE-LMC-CEP-0004"]
    assert np.all(np.diff(lc.time) > 0) and np.all(lc.err > 0)
    assert np.all(np.abs(lc.mag - 15.7) < 1)
    assert len(lc) == 40 - (n if key != "duplicate" else 0)
    if key:
        assert s.meta["dropped_epochs"][key] == n
    assert s.meta["repaired_objects"] == 1
    untouched = read_untouched(tmp_path)
    for other in untouched.ids:
        if other != "OGLE-LMC-CEP-0004":
            np.testing.assert_array_equal(s[other].mag, untouched[other].mag)


def read_untouched(tmp_path: Path) -> LightCurveSet:
    return read(write_canonical(tmp_path / "good.parquet", lambda lc: None))


def test_canonical_uneven_lists_skip_one_object_only(tmp_path: Path) -> None:
    def uneven(lc):
        lc["mag"] = lc["mag"][:-3]

    path = write_canonical(tmp_path / "set.parquet", uneven)
    s = read(path)
    assert len(s) == GIVEN - 1
    (skip,) = s.skipped
    assert skip["id"] == "OGLE-LMC-CEP-0004" and skip["source"] == str(path)
    assert "differ in length (40, 37, 40, 40)" in skip["reason"]
    assert "one value per epoch" in skip["reason"]


def test_canonical_empty_and_null_curves_are_skipped(tmp_path: Path) -> None:
    table = canonical_table(cepheid_rows())
    records = table.to_pylist()
    records[1]["lightcurve"] = None
    records[2]["lightcurve"] = {"time": [], "mag": [], "err": [], "band": []}
    path = tmp_path / "set.parquet"
    pq.write_table(pa.Table.from_pylist(records, schema=table.schema), path)
    s = read(path)
    assert len(s) == GIVEN - 2
    reasons = {k["id"]: k["reason"] for k in s.skipped}
    assert "is null" in reasons["OGLE-LMC-CEP-0002"]
    assert "no epochs" in reasons["OGLE-LMC-CEP-0003"]


def test_canonical_repeated_id(tmp_path: Path) -> None:
    rows = cepheid_rows()
    table = canonical_table(rows)
    records = table.to_pylist()
    same = dict(records[0])  # an exact copy: one is kept
    other = dict(records[5], id="OGLE-LMC-CEP-0002")  # different data under one id: both go
    path = tmp_path / "set.parquet"
    pq.write_table(pa.Table.from_pylist([*records, same, other], schema=table.schema), path)
    s = read(path)
    assert len(s) == GIVEN - 1
    assert "OGLE-LMC-CEP-0001" in s.ids and "OGLE-LMC-CEP-0002" not in s.ids
    (skip,) = s.skipped
    assert skip["id"] == "OGLE-LMC-CEP-0002" and "own id" in skip["reason"]


def test_period_runs_over_a_bad_object(tmp_path: Path) -> None:
    """One NaN magnitude no longer aborts the run: every object gets its period."""
    s = read(write_canonical(tmp_path / "set.parquet", _nan_mag))
    table = period_table(s[:4], PeriodConfig(fmin=0.05, fmax=2.0), progress=False)
    assert len(table) == 4 and table["period_error"].eq("").all()
    assert table["period"].to_numpy() == pytest.approx(PERIOD, rel=1e-3)


def test_period_is_not_led_by_implausible_magnitudes(tmp_path: Path) -> None:
    s = read(write_canonical(tmp_path / "set.parquet", _implausible))
    table = period_table(s[3:4], PeriodConfig(fmin=0.05, fmax=2.0), progress=False)
    assert table["period"].iloc[0] == pytest.approx(PERIOD, rel=1e-3)
    assert table["amplitude"].iloc[0] < 1


def test_canonical_chunk_as_predict_reads_it(tmp_path: Path) -> None:
    """``from_arrow`` (how predict reads a chunk) keeps the others too."""
    path = write_canonical(tmp_path / "set.parquet", _reversed)
    s = LightCurveSet.from_arrow(pq.read_table(path), source="chunk")
    assert len(s) == GIVEN
    assert [len(lc) for lc in s] == [40] * GIVEN


# ------------------------------------------------------------------ Gaia DR3 Parquet
def write_gaia_vari(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Gaia DR3 layout: one row per star, list columns in BJD − 2455197.5."""
    table = pa.table(
        {
            "source_id": [int(r["source_id"]) for r in rows],
            "time": [(r["time"] - 2455197.5 + 2450000).tolist() for r in rows],
            "mag": [r["mag"].tolist() for r in rows],
            "mag_err": [r["err"].tolist() for r in rows],
            "best_class_name": ["CEP"] * len(rows),
        }
    )
    pq.write_table(table, path)
    return path


def gaia_rows() -> list[dict[str, Any]]:
    rows = cepheid_rows()
    for k, r in enumerate(rows):
        r["source_id"] = 4657982 * 10**12 + 1000 * k
    return rows


def test_gaia_repeated_source_id_skips_only_that_star(tmp_path: Path) -> None:
    rows = gaia_rows()
    clash = dict(rows[5], source_id=rows[2]["source_id"])  # another star's epochs, same id
    copy = dict(rows[7])  # the same star twice: one copy is kept
    path = write_gaia_vari(tmp_path / "lightcurves.parquet", [*rows, clash, copy])
    s = read(path)
    assert len(s) == GIVEN - 1
    (skip,) = s.skipped
    assert skip["id"] == str(rows[2]["source_id"]) and skip["source"] == str(path)
    assert "2 objects with different epochs" in skip["reason"] and "own id" in skip["reason"]
    assert str(path) in skip["reason"]


def test_gaia_implausible_magnitudes_are_dropped_and_counted(tmp_path: Path) -> None:
    rows = gaia_rows()
    rows[4]["mag"][[3, 9]] = 1e30
    rows[6]["err"][0] = 99.99
    s = read(write_gaia_vari(tmp_path / "lightcurves.parquet", rows))
    assert len(s) == GIVEN and s.meta["dropped_epochs"]["implausible"] == 3
    assert s.n_epochs.tolist().count(38) == 1 and s.n_epochs.tolist().count(39) == 1
