"""Gaia readers: the nested per-star Parquet (gaia_vari) and archive epoch downloads (gaia_epoch).

Files in the archive's three layouts (CSV, ECSV, VOTable) are written at test
time into ``tmp_path``; those built from the shared data never leave it.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from astropy.table import Table

from conftest import shared_path
from skyclass.exceptions import DataError
from skyclass.io import detect_format, read
from skyclass.io.gaia import read_gaia_epoch, read_gaia_vari

SHIFT = 2455197.5 - 2400000.5  # Gaia's BJD - 2455197.5 to days since JD 2400000.5
SIGMA = 2.5 / np.log(10.0)
LAYOUTS = {"csv": "epochs.csv", "ecsv": "epochs.ecsv", "votable": "epochs.xml"}
TINY_CSV = """\
solution_id,source_id,transit_id,band,time,mag,flux,flux_error,flux_over_error,rejected_by_photometry,rejected_by_variability,other_flags
1,101,10,G,1700.25,15.00,1000.0,10.0,100.0,false,false,0
1,101,11,G,1710.50,15.10,912.0,9.12,100.0,false,false,0
1,101,12,G,1711.00,25.00,0.1,1.0,0.1,true,false,0
1,101,13,G,1712.00,15.05,950.0,19.0,50.0,false,true,0
1,101,14,BP,1700.26,15.40,500.0,10.0,50.0,false,false,0
1,101,15,RP,1700.27,14.60,700.0,7.0,100.0,false,false,0
1,202,20,G,1705.00,17.00,100.0,2.0,50.0,false,false,0
1,202,21,G,1706.00,17.20,80.0,2.0,40.0,false,false,0
1,303,30,BP,1705.00,18.00,50.0,5.0,10.0,false,false,0
1,303,31,BP,1706.00,18.10,45.0,5.0,9.0,false,false,0
1,404,40,G,1707.00,18.00,50.0,5.0,10.0,true,false,0
1,404,41,G,1708.00,18.20,40.0,5.0,8.0,false,true,0
"""


def write_layout(table: pd.DataFrame, path: Path) -> Path:
    """Write an epoch table the way the Gaia archive serves it, by file suffix."""
    if path.suffix == ".csv":
        table.to_csv(path, index=False)
    elif path.suffix == ".ecsv":
        Table.from_pandas(table).write(path, format="ascii.ecsv")
    else:
        Table.from_pandas(table).write(path, format="votable")
    return path


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    path = tmp_path / "EPOCH_PHOTOMETRY-tiny.csv"
    path.write_text(TINY_CSV)
    return path


# ------------------------------------------------------------------ gaia_epoch, everywhere
def test_tiny_csv_by_hand(tiny_csv: Path) -> None:
    s = read_gaia_epoch(tiny_csv, progress=False)
    assert s.ids.tolist() == ["101", "202"]
    lc = s["101"]
    assert lc.time.tolist() == [1700.25 + SHIFT, 1710.50 + SHIFT]  # rejected 1711, 1712 dropped
    assert lc.mag.tolist() == [15.00, 15.10]
    np.testing.assert_allclose(lc.err, [SIGMA / 100, SIGMA / 100], rtol=1e-12)
    np.testing.assert_allclose(s["202"].err, [SIGMA / 50, SIGMA / 40], rtol=1e-12)
    assert s.bands == ("G",)
    assert s.meta["time_ref"] == "BJD" and s.meta["time_shift"] == SHIFT
    assert s.meta["rejected_epochs"] == {"photometry": 2, "variability": 2, "dropped": 4}
    # 303 has BP epochs only, 404 only rejected ones: both listed, with the fix in the reason
    reasons = {k["id"]: k["reason"] for k in s.skipped}
    assert set(reasons) == {"303", "404"}
    assert "no epochs in band(s) ['G']" in reasons["303"]
    assert "drop_rejected=False" in reasons["404"]


def test_tiny_csv_keeps_rejected_and_bands(tiny_csv: Path) -> None:
    kept = read_gaia_epoch(tiny_csv, drop_rejected=False, progress=False)
    assert len(kept["101"]) == 4 and kept["404"].mag.tolist() == [18.0, 18.2]
    assert kept.meta["rejected_epochs"]["dropped"] == 0
    multi = read_gaia_epoch(tiny_csv, bands=("G", "BP", "RP"), progress=False)
    assert set(multi.bands) == {"G", "BP", "RP"}
    assert multi.ids.tolist() == ["101", "202", "303"]
    assert [k["id"] for k in multi.skipped] == ["404"]
    lc = multi["101"]
    assert lc.select_band("BP").mag.tolist() == [15.40]
    assert lc.select_band("RP").time.tolist() == [1700.27 + SHIFT]
    assert multi["303"].bands == ("BP",)
    assert read_gaia_epoch(tiny_csv, bands="bp", progress=False).ids.tolist() == ["303"]


def test_bad_band_names_valid_ones(tiny_csv: Path) -> None:
    with pytest.raises(DataError, match=r"choose from \['G', 'BP', 'RP'\]"):
        read_gaia_epoch(tiny_csv, bands=("V",))


def test_strict_names_the_object(tiny_csv: Path) -> None:
    with pytest.raises(DataError) as info:
        read_gaia_epoch(tiny_csv, strict=True)
    assert info.value.object_id == "303" and info.value.source == str(tiny_csv)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("missing", ["source_id", "band", "time", "mag", "flux_over_error"])
def test_missing_column_names_column_and_file(tmp_path: Path, layout: str, missing: str) -> None:
    table = pd.read_csv(io.StringIO(TINY_CSV)).drop(columns=missing)
    path = write_layout(table, tmp_path / LAYOUTS[layout])
    with pytest.raises(DataError, match=rf"no '{missing}' column") as info:
        read_gaia_epoch(path)
    assert str(path) in str(info.value)


def test_renamed_columns_can_be_named(tmp_path: Path) -> None:
    table = pd.read_csv(io.StringIO(TINY_CSV)).rename(columns={"time": "obs_time"})
    path = write_layout(table, tmp_path / "renamed.csv")
    s = read_gaia_epoch(path, columns={"time": "obs_time"}, progress=False)
    assert s["101"].time[0] == 1700.25 + SHIFT


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_layouts_agree_and_are_detected(tiny_csv: Path, tmp_path: Path, layout: str) -> None:
    table = pd.read_csv(tiny_csv)
    path = write_layout(table, tmp_path / LAYOUTS[layout])
    assert detect_format(path) == "gaia_epoch"
    s = read(path, format="auto", bands=("G", "BP", "RP"), progress=False)
    ref = read_gaia_epoch(tiny_csv, bands=("G", "BP", "RP"), progress=False)
    for sid in ref.ids:
        np.testing.assert_array_equal(s[sid].time, ref[sid].time)
        np.testing.assert_array_equal(s[sid].mag, ref[sid].mag)
        np.testing.assert_allclose(s[sid].err, ref[sid].err, rtol=1e-12)
    assert s.meta["rejected_epochs"] == ref.meta["rejected_epochs"]


def test_truncated_csv_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match="empty"):
        read_gaia_epoch(path)
    broken = tmp_path / "broken.xml"
    broken.write_text(
        '<?xml version="1.0"?><VOTABLE><RESOURCE><TABLE><FIELD name="source_id" '
        'datatype="long"/><FIELD name="band" datatype="char" arraysize="*"/>'
    )
    with pytest.raises(DataError, match="cannot parse the votable") as info:
        read_gaia_epoch(broken)
    assert info.value.source == str(broken)


# ------------------------------------------------------------------ gaia_vari, everywhere
def write_vari(path: Path) -> Path:
    pq.write_table(
        pa.table(
            {
                "source_id": pa.array([11, 22, 33, 44], pa.int64()),
                "time": pa.array(
                    [[1700.0, 1690.0, 1710.0], [1700.0, None], None, [1.0, 2.0, 3.0]],
                    pa.list_(pa.float64()),
                ),
                "mag": pa.array(
                    [[15.0, 15.5, float("nan")], [16.0, 16.1], [1.0], [17.0, 17.1]],
                    pa.list_(pa.float64()),
                ),
                "mag_err": pa.array(
                    [[0.01, 0.02, 0.01], [0.02, 0.02], [0.1], [0.1, 0.1]], pa.list_(pa.float64())
                ),
                "best_class_name": ["RR", "ECL", "CEP", "LPV"],
                "best_class_score": pa.array([0.9, 0.8, 0.7, 0.6], pa.float32()),
                "parallax": [1.0, None, 0.5, 0.1],
            }
        ),
        path,
    )
    return path


def test_vari_synthetic_bad_rows_are_skipped(tmp_path: Path) -> None:
    path = write_vari(tmp_path / "vari.parquet")
    assert detect_format(path) == "gaia_vari"
    s = read(path, progress=False)
    assert s.ids.tolist() == ["11"]
    lc = s["11"]
    assert lc.time.tolist() == [1690.0 + SHIFT, 1700.0 + SHIFT]  # sorted, NaN mag dropped
    assert lc.mag.tolist() == [15.5, 15.0] and lc.err.tolist() == [0.02, 0.01]
    assert s.objects.columns.tolist() == ["id", "label", "best_class_score", "parallax"]
    assert s.labels.tolist() == ["RR"] and s.meta["band"] == "G"
    reasons = {k["id"]: k["reason"] for k in s.skipped}
    assert set(reasons) == {"22", "33", "44"}
    assert "only 1 good epoch" in reasons["22"]
    assert "null" in reasons["33"]
    assert "lengths differ" in reasons["44"]
    with pytest.raises(DataError) as info:
        read_gaia_vari(path, strict=True)
    assert info.value.object_id == "22" and info.value.source == str(path)


def test_vari_missing_column_and_flat_layout(tmp_path: Path) -> None:
    path = tmp_path / "nomag.parquet"
    pq.write_table(pa.table({"source_id": [1], "time": [[1.0, 2.0]]}), path)
    with pytest.raises(DataError, match="no 'mag' column") as info:
        read_gaia_vari(path)
    assert info.value.source == str(path)
    flat = tmp_path / "flat.parquet"
    pq.write_table(pa.table({"source_id": [1, 1], "time": [1.0, 2.0], "mag": [3.0, 4.0]}), flat)
    assert detect_format(flat) != "gaia_vari"
    with pytest.raises(DataError, match="not a list"):
        read_gaia_vari(flat)


# -------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def vari_path(shared_data: Path) -> Path:
    return shared_path(shared_data, "gaia_dr3_vari", "lightcurves.parquet")


@pytest.fixture(scope="module")
def vari(vari_path: Path):
    return read_gaia_vari(vari_path, progress=False)


@pytest.mark.realdata
def test_vari_real_counts(vari, vari_path: Path) -> None:
    assert detect_format(vari_path) == "gaia_vari"
    assert len(vari) == 2000 and not vari.skipped
    assert vari.class_counts().to_dict() == {
        name: 400 for name in ("CEP", "RR", "ECL", "LPV", "DSCT|GDOR|SXPHE")
    }
    assert vari.bands == ("G",)
    assert vari.meta["time_ref"] == "BJD" and vari.meta["time_shift"] == SHIFT
    assert {"best_class_score", "phot_g_mean_mag", "bp_rp", "parallax"} <= set(vari.objects.columns)
    raw = pq.read_table(vari_path).slice(0, 1).to_pylist()[0]
    lc = vari[str(raw["source_id"])]
    order = np.argsort(raw["time"], kind="stable")
    np.testing.assert_array_equal(lc.time, np.asarray(raw["time"])[order] + SHIFT)
    np.testing.assert_array_equal(lc.mag, np.asarray(raw["mag"])[order])
    assert 20 <= vari.n_epochs.min() and vari.n_epochs.max() <= 153


def epochs_from_vari(vari_path: Path, n_stars: int = 3) -> pd.DataFrame:
    """Explode the first stars of the shared Parquet into the archive's per-epoch layout."""
    stars = pq.read_table(vari_path).slice(0, n_stars).to_pandas()
    frames = []
    for k, star in stars.iterrows():
        t, m, e = (np.asarray(star[c], float) for c in ("time", "mag", "mag_err"))
        foe = SIGMA / e
        flux = 10 ** (-0.4 * (m - 25.6874))
        n = t.size
        g = pd.DataFrame(
            {
                "solution_id": 375316653866487564,
                "source_id": star["source_id"],
                "transit_id": np.arange(n, dtype=np.int64) + 1000 * k,
                "band": "G",
                "time": t,
                "mag": m,
                "flux": flux,
                "flux_error": flux / foe,
                "flux_over_error": foe,
                "rejected_by_photometry": False,
                "rejected_by_variability": False,
                "other_flags": 0,
            }
        )
        bp = g.assign(band="BP", time=t + 1e-4, mag=m + 0.5)
        rejected = g.iloc[:2].assign(time=t[:2] + 0.3, mag=[21.5, 22.0])  # faint, flagged
        rejected["rejected_by_photometry"] = [True, False]
        rejected["rejected_by_variability"] = [False, True]
        frames += [g, bp, rejected]
    return pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=0)


@pytest.mark.realdata
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_epoch_layouts_match_vari(vari, vari_path: Path, tmp_path: Path, layout: str) -> None:
    table = epochs_from_vari(vari_path)
    path = write_layout(table, tmp_path / LAYOUTS[layout])
    assert detect_format(path) == "gaia_epoch"
    s = read_gaia_epoch(path, progress=False)
    ids = sorted({str(i) for i in table["source_id"]})
    assert sorted(s.ids.tolist()) == ids and not s.skipped
    for sid in ids:
        np.testing.assert_array_equal(s[sid].time, vari[sid].time)
        np.testing.assert_array_equal(s[sid].mag, vari[sid].mag)
        np.testing.assert_allclose(s[sid].err, vari[sid].err, rtol=1e-12)
    assert s.meta["rejected_epochs"] == {"photometry": 3, "variability": 3, "dropped": 6}
    assert s.meta["time_ref"] == vari.meta["time_ref"]
    assert s.meta["time_shift"] == vari.meta["time_shift"]

    kept = read_gaia_epoch(path, drop_rejected=False, progress=False)
    assert kept.n_epochs.sum() == s.n_epochs.sum() + 6
    both = read_gaia_epoch(path, bands=("G", "BP"), progress=False)
    for sid in ids:
        assert len(both[sid].select_band("BP")) == len(vari[sid])
        np.testing.assert_array_equal(both[sid].select_band("G").mag, vari[sid].mag)
