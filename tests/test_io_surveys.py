"""Survey readers for ZTF (IRSA), ASAS-SN Sky Patrol and Catalina CSDR2.

There are no real files of these surveys here: every file is simulated at test
time from synthetic numbers, with the documented column layout, and then broken
on purpose (missing column, text in numbers, empty file, too few epochs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import skyclass.io as sio
from skyclass.exceptions import DataError
from skyclass.io.asassn import read_asassn
from skyclass.io.crts import read_crts
from skyclass.io.ztf import read_ztf

ZTF_COLUMNS = (
    "oid expid hjd mjd mag magerr catflags filtercode ra dec chi sharp filefracday field "
    "ccdid qid limitmag magzp magzprms clrcoeff clrcounc exptime airmass programid"
).split()
HELIO = 0.0042  # simulated heliocentric correction, days


# ---------------------------------------------------------------- simulated files
def simulated_ztf(n_epochs: dict[int, tuple[str, int]], *, seed: int = 0) -> pd.DataFrame:
    """A simulated IRSA table: ``{oid: (filtercode, epochs)}``, every column IRSA serves."""
    rng = np.random.default_rng(seed)
    rows = []
    for k, (oid, (code, n)) in enumerate(n_epochs.items()):
        mjd = 58300.0 + np.sort(rng.uniform(0, 300, n))
        for j in range(n):
            rows.append(
                {
                    "oid": oid,
                    "expid": 50_000_000 + 100 * k + j,
                    "hjd": mjd[j] + 2400000.5 + HELIO,
                    "mjd": mjd[j],
                    "mag": 17.0 + 0.3 * np.sin(mjd[j]) + k,
                    "magerr": 0.02,
                    "catflags": 0,
                    "filtercode": code,
                    "ra": 120.0 + k + rng.normal(0, 1e-5),
                    "dec": -5.0 + rng.normal(0, 1e-5),
                    "chi": 1.0,
                    "sharp": 0.01,
                    "filefracday": 20180701123456,
                    "field": 500 + k,
                    "ccdid": 3,
                    "qid": 2,
                    "limitmag": 20.5,
                    "magzp": 26.2,
                    "magzprms": 0.03,
                    "clrcoeff": -0.05,
                    "clrcounc": 1e-5,
                    "exptime": 30.0,
                    "airmass": 1.2,
                    "programid": 1,
                }
            )
    return pd.DataFrame(rows, columns=ZTF_COLUMNS)


@pytest.fixture
def ztf_table() -> pd.DataFrame:
    """Simulated ZTF: oid 1 in zg (6 epochs, one flagged), 2 in zr (4), 3 in zi (1 epoch)."""
    table = simulated_ztf({1: ("zg", 6), 2: ("zr", 4), 3: ("zi", 1)})
    table.loc[2, "catflags"] = 32768
    return table


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    table.to_csv(path, index=False)
    return path


def simulated_asassn_classic(path: Path, *, n: int = 6, n_limits: int = 2) -> Path:
    """A simulated classic Sky Patrol file (g and V); the last ``n_limits`` are non-detections."""
    hjd = 2457000.0 + np.arange(n + n_limits) * 1.7
    lines = ["HJD,UT Date,Camera,FWHM,Limit,mag,mag_err,flux(mJy),flux_err,Filter"]
    for j, t in enumerate(hjd):
        band = "V" if j % 2 else "g"
        if j < n:
            mag, err = f"{14.0 + 0.1 * j:.3f}", "0.020"
        else:
            mag, err = ">17.5", "99.99"
        lines.append(f"{t:.5f},2014-12-{1 + j:02d}.5,bd,1.5,17.5,{mag},{err},8.0,0.1,{band}")
    path.write_text("\n".join(lines) + "\n")
    return path


def simulated_asassn_v2(path: Path, quality: str = "GGBGGB") -> Path:
    """A simulated Sky Patrol v2 file, one epoch per quality letter."""
    rows = [
        {
            "jd": 2459000.5 + j,
            "flux": 5.0,
            "flux_err": 0.1,
            "mag": 15.0 + 0.05 * j,
            "mag_err": 0.03,
            "limit": 17.8,
            "fwhm": 1.6,
            "image_id": f"ba{j:04d}",
            "camera": "bA",
            "quality": q,
            "phot_filter": "g",
        }
        for j, q in enumerate(quality)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def simulated_crts(path: Path) -> Path:
    """Simulated CSDR2: object 11 (5 epochs, 2 blended), 22 (3 epochs), 33 (1 epoch)."""
    rows = []
    for master, n, ra in ((11, 5, 150.0), (22, 3, 151.0), (33, 1, 152.0)):
        for j in range(n):
            blend = int(master == 11 and j in (1, 3))
            rows.append((master, 16.0 + 0.1 * j, 0.08, ra, 2.0, 53500.25 + 10 * j, blend))
    cols = ["MasterID", "Mag", "Magerr", "RA", "Dec", "MJD", "Blend"]
    pd.DataFrame(rows, columns=cols).to_csv(path, index=False)
    return path


# ------------------------------------------------------------------------- ZTF
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_ztf_groups_by_oid_and_maps_bands(ztf_table, tmp_path, suffix):
    path = tmp_path / f"ztf{suffix}"
    if suffix == ".csv":
        write_csv(ztf_table, path)
    else:
        ztf_table.to_parquet(path, index=False)
    s = read_ztf(path, progress=False)
    assert s.ids.tolist() == ["1", "2"]
    assert [s[i].bands for i in ("1", "2")] == [("g",), ("r",)]
    assert s.n_epochs.tolist() == [5, 4]  # one flagged epoch of oid 1 dropped
    assert {"ra", "dec", "field", "filtercode"} <= set(s.objects.columns)
    assert s.objects["filtercode"].tolist() == ["zg", "zr"]
    assert s.objects["field"].tolist() == [500, 501]
    assert [x["id"] for x in s.skipped] == ["3"]  # a single epoch
    assert s.meta["survey"] == "ztf"


def test_ztf_time_is_mjd_by_default_and_hjd_on_request(ztf_table, tmp_path):
    path = write_csv(ztf_table, tmp_path / "ztf.csv")
    good = ztf_table[(ztf_table.oid == 1) & (ztf_table.catflags == 0)]
    s = read_ztf(path, progress=False)
    assert (s.meta["time_ref"], s.meta["time_shift"]) == ("JD", 0.0)
    np.testing.assert_allclose(s["1"].time, good.mjd)
    h = read_ztf(path, time="hjd", progress=False)
    assert (h.meta["time_ref"], h.meta["time_shift"]) == ("HJD", -2400000.5)
    np.testing.assert_allclose(h["1"].time, good.hjd - 2400000.5, rtol=0, atol=1e-8)
    np.testing.assert_allclose(h["1"].time - s["1"].time, HELIO, atol=1e-8)
    with pytest.raises(DataError, match="choose one of: mjd, hjd"):
        read_ztf(path, time="bjd")


def test_ztf_catflags_filter_counts_and_can_be_disabled(ztf_table, tmp_path):
    path = write_csv(ztf_table, tmp_path / "ztf.csv")
    s = read_ztf(path, progress=False)
    assert s.meta["filtered_epochs"] == {"catflags": 1}
    assert s.meta["epoch_filters"] == {"catflags": "catflags > 0"}
    everything = read_ztf(path, max_catflags=None, progress=False)
    assert everything.n_epochs.tolist() == [6, 4]
    assert everything.meta["filtered_epochs"] == {}
    assert read_ztf(path, max_catflags=40000, progress=False).n_epochs.tolist() == [6, 4]


def test_ztf_object_with_every_epoch_flagged_is_skipped(ztf_table, tmp_path):
    ztf_table.loc[ztf_table.oid == 2, "catflags"] = 2
    path = write_csv(ztf_table, tmp_path / "ztf.csv")
    s = read_ztf(path, progress=False)
    assert s.ids.tolist() == ["1"]
    assert s.meta["filtered_epochs"] == {"catflags": 5}
    skipped = {x["id"]: x["reason"] for x in s.skipped}
    assert set(skipped) == {"2", "3"}
    assert "max_catflags=None" in skipped["2"]
    with pytest.raises(DataError, match=r"\[2\].*every epoch was dropped"):
        read_ztf(path, strict=True, progress=False)


def test_ztf_every_epoch_flagged_says_how_to_keep_them(ztf_table, tmp_path):
    ztf_table["catflags"] = 1
    path = write_csv(ztf_table, tmp_path / "ztf.csv")
    with pytest.raises(DataError, match=r"all 11 epochs were dropped.*max_catflags=None"):
        read_ztf(path, progress=False)


def test_ztf_text_cell_drops_that_epoch_text_column_raises(ztf_table, tmp_path):
    table = ztf_table.astype({"mag": object})
    table.loc[7, "mag"] = "nan?"  # oid 2, first epoch
    s = read_ztf(write_csv(table, tmp_path / "cell.csv"), progress=False)
    assert s.n_epochs.tolist() == [5, 3]
    assert s.meta["dropped_epochs"]["nonfinite"] == 1
    table["magerr"] = "bad"
    with pytest.raises(DataError, match=r"'magerr'.*holds no numbers"):
        read_ztf(write_csv(table, tmp_path / "column.csv"), progress=False)
    table["mjd"] = np.nan  # an empty time column is no better
    with pytest.raises(DataError, match=r"'mjd'.*holds no numbers"):
        read_ztf(write_csv(table, tmp_path / "notime.csv"), progress=False)


def test_ztf_missing_column_names_it_the_file_and_the_fix(ztf_table, tmp_path):
    path = write_csv(ztf_table.drop(columns="magerr"), tmp_path / "nomagerr.csv")
    with pytest.raises(DataError) as info:
        read_ztf(path)
    message = str(info.value)
    assert "'magerr'" in message and str(path) in message and "columns={'err'" in message
    renamed = ztf_table.rename(columns={"magerr": "sigma"})
    path = write_csv(renamed, tmp_path / "renamed.csv")
    assert len(read_ztf(path, columns={"err": "sigma"}, progress=False)) == 2


def test_ztf_empty_and_header_only_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty"):
        read_ztf(empty)
    header = tmp_path / "header.csv"
    header.write_text(",".join(ZTF_COLUMNS) + "\n")
    with pytest.raises(DataError, match="no rows"):
        read_ztf(header)


def test_ztf_single_epoch_object_raises_when_strict(ztf_table, tmp_path):
    path = write_csv(ztf_table, tmp_path / "ztf.csv")
    with pytest.raises(DataError, match=r"\[3\].*only 1 good epoch"):
        read_ztf(path, strict=True, progress=False)
    assert len(read_ztf(path, min_epochs=1, progress=False)) == 3


# --------------------------------------------------------------------- ASAS-SN
def test_asassn_classic_drops_upper_limits_and_shifts_hjd(tmp_path):
    path = simulated_asassn_classic(tmp_path / "ASASSN-V J0001.csv")
    s = read_asassn(path, progress=False)
    assert s.ids.tolist() == ["ASASSN-V J0001"]
    assert len(s) == 1 and s.n_epochs.tolist() == [6]
    assert s.meta["filtered_epochs"] == {"upper_limit": 2}
    assert (s.meta["time_ref"], s.meta["time_shift"]) == ("HJD", -2400000.5)
    assert s.time[0] == pytest.approx(2457000.0 - 2400000.5)
    assert sorted(s.bands) == ["V", "g"]
    assert s.mag.max() < 17  # no limit read as a magnitude
    assert read_asassn(path, id="my star", progress=False).ids.tolist() == ["my star"]


def test_asassn_upper_limit_marked_by_error_only(tmp_path):
    path = simulated_asassn_classic(tmp_path / "star.csv", n_limits=0)
    text = path.read_text().splitlines()
    text[1] = text[1].replace(",0.020,", ",99.99,")  # numeric magnitude, 99.99 error
    path.write_text("\n".join(text) + "\n")
    s = read_asassn(path, progress=False)
    assert s.meta["filtered_epochs"] == {"upper_limit": 1}
    assert s.n_epochs.tolist() == [5]


def test_asassn_v2_drops_bad_quality_by_default(tmp_path):
    path = simulated_asassn_v2(tmp_path / "v2.csv")
    s = read_asassn(path, progress=False)
    assert s.n_epochs.tolist() == [4]
    assert s.meta["filtered_epochs"] == {"upper_limit": 0, "bad_quality": 2}
    assert (s.meta["time_ref"], s.bands) == ("JD", ("g",))
    assert s.time[0] == pytest.approx(59000.0)
    assert read_asassn(path, drop_bad=False, progress=False).n_epochs.tolist() == [6]


def test_asassn_only_upper_limits_raises(tmp_path):
    path = simulated_asassn_classic(tmp_path / "faint.csv", n=0, n_limits=4)
    with pytest.raises(DataError, match=r"all 4 epochs were dropped.*upper limit"):
        read_asassn(path)


def test_asassn_text_magnitude_is_dropped_and_counted(tmp_path):
    path = simulated_asassn_classic(tmp_path / "star.csv", n_limits=0)
    path.write_text(path.read_text().replace(",14.300,", ",bad,"))
    s = read_asassn(path, progress=False)
    assert s.n_epochs.tolist() == [5]
    assert s.meta["dropped_epochs"]["nonfinite"] == 1


def test_asassn_missing_column_and_unknown_layout(tmp_path):
    path = simulated_asassn_v2(tmp_path / "v2.csv")
    pd.read_csv(path).drop(columns="mag_err").to_csv(path, index=False)
    with pytest.raises(DataError, match="not an ASAS-SN Sky Patrol layout"):
        read_asassn(path)
    with pytest.raises(DataError, match=r"no 'mag_err' column.*columns=\{'err'"):
        read_asassn(path, layout="v2")
    with pytest.raises(DataError, match="choose one of: auto, classic, v2"):
        read_asassn(path, layout="v3")


# ------------------------------------------------------------------------ CRTS
def test_crts_groups_by_masterid_in_band_cv(tmp_path):
    path = simulated_crts(tmp_path / "crts.csv")
    s = read_crts(path, progress=False)
    assert s.ids.tolist() == ["11", "22"]
    assert s.n_epochs.tolist() == [5, 3]
    assert s.bands == ("CV",)
    assert (s.meta["time_ref"], s.meta["time_shift"]) == ("JD", 0.0)
    assert s["22"].time.tolist() == [53500.25, 53510.25, 53520.25]
    assert s.objects["RA"].tolist() == [150.0, 151.0]
    assert [x["id"] for x in s.skipped] == ["33"]
    with pytest.raises(DataError, match=r"\[33\]"):
        read_crts(path, strict=True, progress=False)


def test_crts_drop_blended(tmp_path):
    path = simulated_crts(tmp_path / "crts.csv")
    s = read_crts(path, drop_blended=True, progress=False)
    assert s.n_epochs.tolist() == [3, 3]
    assert s.meta["filtered_epochs"] == {"blend": 2}


def test_crts_missing_column(tmp_path):
    path = simulated_crts(tmp_path / "crts.csv")
    pd.read_csv(path).drop(columns="MJD").to_csv(path, index=False)
    with pytest.raises(DataError, match=r"no 'MJD' column.*columns=\{'time'") as info:
        read_crts(path)
    assert str(path) in str(info.value)


# ---------------------------------------------------------------- auto detection
def test_auto_format_picks_each_survey(ztf_table, tmp_path):
    files = {
        "ztf": write_csv(ztf_table, tmp_path / "ztf.csv"),
        "asassn": simulated_asassn_classic(tmp_path / "classic.csv"),
        "crts": simulated_crts(tmp_path / "crts.csv"),
    }
    parquet = tmp_path / "ztf.parquet"
    ztf_table.to_parquet(parquet, index=False)
    files["ztf_parquet"] = parquet
    v2 = simulated_asassn_v2(tmp_path / "v2.csv")
    files["asassn_v2"] = v2
    for name, path in files.items():
        survey = name.split("_")[0]
        assert sio.detect_format(path) == survey, name
        assert sio.read(path, format="auto", progress=False).meta["survey"] == survey
