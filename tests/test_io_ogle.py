"""OGLE reader: hand-made files, deliberately broken copies of real files, the real archive."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_path
from skyclass.exceptions import DataError
from skyclass.io import detect_format, get_reader, read
from skyclass.io.ogle import parse_ogle_dat, read_ogle, read_ogle_catalog, read_ogle_ident

SHIFT = 2450000 - 2400000.5
GOOD = b"5262.51951 15.709 0.006\n5264.52435 15.563 0.005\n5265.57598 15.704 0.006\n"
IDENT = (
    "OGLE-LMC-CEP-0001       1O  04:30:57.72 -69:03:37.4  LMC546.19.3065   LMC156.5.186\n"
    "OGLE-LMC-CEP-0002        F  04:31:47.05 -69:49:09.5  LMC538.25.57     LMC157.6.2009\n"
    "OGLE-LMC-CEP-0003     F/1O  00:00:00.00 +00:30:00.0  LMC538.06.389\n"
)
CATALOG = (
    "OGLE-LMC-CEP-0002  15.691 16.420   3.1181490 0.0000109  6000.34799  0.261  "
    "0.295 4.645  0.093 3.004\n"
    "OGLE-LMC-CEP-0003     -   13.630  21.0677110 0.0040892       -        -      -"
    "     -      -     -  \n"
)


def write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def make_tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


# ------------------------------------------------------------------ parsing by hand
def test_parse_good_file():
    values = parse_ogle_dat(GOOD)
    assert values.shape == (3, 3)
    assert values[0].tolist() == [5262.51951, 15.709, 0.006]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty"),
        (b"  \n\n", "empty"),
        (b"5262.5 15.7 0.006\n5263.5 abc 0.005\n", "line 2, column 2: 'abc' is not a number"),
        (b"5262.5 15.7 0.006\n5263.5 15.6", "line 2 has 2 columns, expected 3"),
        (b"5262.5 15.7 0.006\n5263.5 15.6 0.005 1\n", "line 2 has 4 columns"),
        (b"5262.5 15.7\n5263.5 15.6\n", "line 1 has 2 columns"),
    ],
)
def test_parse_errors_name_file_and_line(data, expected):
    with pytest.raises(DataError, match=expected) as info:
        parse_ogle_dat(data, source="x.dat")
    assert info.value.source == "x.dat"


def test_truncated_last_line_is_called_truncated():
    with pytest.raises(DataError, match="truncated"):
        parse_ogle_dat(GOOD + b"5266.5 15.6")


def test_ident_and_catalog_tables(tmp_path):
    ident = read_ogle_ident(write(tmp_path, "ident.dat", IDENT))
    assert ident["OGLE-LMC-CEP-0003"]["label"] == "F/1O"
    assert ident["OGLE-LMC-CEP-0002"]["ra"] == pytest.approx(15 * (4 + 31 / 60 + 47.05 / 3600))
    assert ident["OGLE-LMC-CEP-0002"]["dec"] == pytest.approx(-(69 + 49 / 60 + 9.5 / 3600))
    assert ident["OGLE-LMC-CEP-0003"]["dec"] == pytest.approx(0.5)
    catalog = read_ogle_catalog(write(tmp_path, "cepF.dat", CATALOG))
    assert catalog["OGLE-LMC-CEP-0002"]["period"] == 3.1181490
    assert catalog["OGLE-LMC-CEP-0002"]["phi31"] == 3.004
    missing = catalog["OGLE-LMC-CEP-0003"]
    assert np.isnan(missing["mean_mag_I"]) and np.isnan(missing["t0"])
    assert missing["mean_mag_V"] == 13.630


def test_wrong_tables_raise(tmp_path):
    with pytest.raises(DataError, match="not an OGLE identifier"):
        read_ogle_ident(write(tmp_path, "ident.dat", "ID MODE RA DEC\n"))
    with pytest.raises(DataError, match="not an OGLE parameter table"):
        read_ogle_catalog(write(tmp_path, "cepX.dat", "OGLE-LMC-CEP-0001 a b c\n"))


# ---------------------------------------------------------------- reading by hand
def test_single_file_times_and_meta(tmp_path):
    path = write(tmp_path, "OGLE-LMC-CEP-0002.dat", GOOD)
    s = read_ogle(path, progress=False)
    assert s.ids.tolist() == ["OGLE-LMC-CEP-0002"]
    assert s.bands == ("I",)
    assert s.time.tolist() == [t + SHIFT for t in (5262.51951, 5264.52435, 5265.57598)]
    assert s.meta["time_ref"] == "HJD" and s.meta["time_shift"] == SHIFT
    assert s.labels.tolist() == [None]  # no ident.dat beside it
    assert np.isnan(s.objects["period"].iloc[0])


def test_band_argument_names_the_band(tmp_path):
    s = read_ogle(write(tmp_path, "OGLE-X-1.dat", GOOD), band="V", progress=False)
    assert s.bands == ("V",) and s.meta["band"] == "V"


def test_tables_found_beside_and_joined(tmp_path):
    write(tmp_path, "ident.dat", IDENT)
    write(tmp_path, "cepF.dat", CATALOG)
    for i in (1, 2, 3):
        write(tmp_path, f"phot/I/OGLE-LMC-CEP-000{i}.dat", GOOD)
    s = read_ogle(tmp_path / "phot" / "I", progress=False)  # tables two folders up
    assert s.labels.tolist() == ["1O", "F", "F/1O"]
    row = s.objects.set_index("id").loc["OGLE-LMC-CEP-0002"]
    assert row["period"] == 3.1181490 and row["period_err"] == 0.0000109
    assert row["t0"] == 6000.34799 + SHIFT
    assert row["R21"] == 0.295 and row["mean_mag_V"] == 16.420
    assert np.isnan(s.objects.set_index("id").loc["OGLE-LMC-CEP-0001", "period"])
    # the folder itself: ident.dat and cepF.dat are tables, not light curves
    s_root = read_ogle(tmp_path, progress=False)
    assert s_root.ids.tolist() == s.ids.tolist()
    none = read_ogle(tmp_path / "phot" / "I", ident=False, catalog=False, progress=False)
    assert none.labels.tolist() == [None] * 3


def test_explicit_missing_table_raises(tmp_path):
    path = write(tmp_path, "OGLE-LMC-CEP-0002.dat", GOOD)
    with pytest.raises(DataError, match="table not found"):
        read_ogle(path, ident=tmp_path / "nope.dat", progress=False)


def test_sanitizes_nan_negative_errors_duplicates_unsorted(tmp_path):
    data = (
        b"5265.5 15.70 0.006\n"
        b"5262.5 15.71 0.006\n"
        b"5262.5 15.71 0.006\n"  # duplicate
        b"5263.5 nan 0.005\n"  # NaN magnitude
        b"5264.5 15.60 -0.005\n"  # negative error
        b"5266.5 15.65 0.007\n"
    )
    s = read_ogle(write(tmp_path, "OGLE-A.dat", data), progress=False)
    lc = s[0]
    assert (lc.time - SHIFT).tolist() == pytest.approx([5262.5, 5265.5, 5266.5])
    assert s.meta["dropped_epochs"] == {
        "nonfinite": 1,
        "missing": 0,
        "implausible": 0,
        "bad_err": 1,
        "duplicate": 1,
    }


def test_single_epoch_needs_lower_min_epochs(tmp_path):
    path = write(tmp_path, "OGLE-A.dat", b"5262.5 15.7 0.006\n")
    with pytest.raises(DataError, match="at least 2"):
        read_ogle(path, progress=False)  # the only object is skipped: nothing left
    assert len(read_ogle(path, min_epochs=1, progress=False)) == 1


def test_tar_archive_reads_requested_band_only(tmp_path):
    archive = make_tar(
        tmp_path / "phot.tar.gz",
        {
            "phot/I/OGLE-A.dat": GOOD,
            "phot/V/OGLE-A.dat": GOOD.replace(b"15.", b"16."),
            "phot/I/OGLE-B.dat": GOOD,
            "ident.dat": IDENT.encode(),
            "cepF.dat": CATALOG.encode(),
        },
    )
    s = read_ogle(archive, progress=False)
    assert s.ids.tolist() == ["OGLE-A", "OGLE-B"] and not s.skipped  # tables are not curves
    assert s.mag.max() < 16
    v = read_ogle(archive, band="V", progress=False)
    assert v.ids.tolist() == ["OGLE-A"] and v.mag.min() > 16


def test_folder_with_archive_only(tmp_path):
    make_tar(tmp_path / "phot_I.tar.gz", {"I/OGLE-A.dat": GOOD})
    write(tmp_path, "ident.dat", IDENT.replace("OGLE-LMC-CEP-0001", "OGLE-A"))
    s = read(tmp_path, progress=False)
    assert s.ids.tolist() == ["OGLE-A"] and s.labels.tolist() == ["1O"]


def test_damaged_archive_keeps_what_was_read(tmp_path):
    members = {f"I/OGLE-{i:03d}.dat": GOOD * 200 for i in range(20)}
    whole = make_tar(tmp_path / "whole.tar.gz", members).read_bytes()
    damaged = write(tmp_path / "cut", "cut.tar.gz", whole[: len(whole) // 2])
    s = read_ogle(damaged, progress=False)
    assert 0 < len(s) < 20
    assert "damaged" in s.skipped[-1]["reason"]
    with pytest.raises(DataError, match="damaged"):
        read_ogle(damaged, strict=True, progress=False)
    not_tar = write(tmp_path, "junk.tgz", gzip.compress(b"not a tar"))
    with pytest.raises(DataError):
        read_ogle(not_tar, progress=False)


def test_duplicate_star_in_two_folders_is_skipped(tmp_path):
    write(tmp_path, "a/OGLE-A.dat", GOOD)
    write(tmp_path, "b/OGLE-A.dat", GOOD)
    s = read_ogle(tmp_path, progress=False)
    assert len(s) == 1 and "second file" in s.skipped[0]["reason"]


def test_autodetect(tmp_path):
    path = write(tmp_path / "d", "OGLE-A.dat", GOOD)
    archive = make_tar(tmp_path / "a.tar.gz", {"I/OGLE-A.dat": GOOD})
    for target in (path, path.parent, archive):
        assert detect_format(target) == "ogle"
        assert read(target, progress=False).ids.tolist() == ["OGLE-A"]
    sniff = get_reader("ogle").sniff
    assert not sniff(write(tmp_path / "e", "x.dat", b"0.1 15.0\n0.2 15.1\n"))  # 2 columns
    assert not sniff(write(tmp_path / "f", "ident.dat", IDENT))
    assert not sniff(make_tar(tmp_path / "other.tar.gz", {"lc/123_bin.dat": b"0.1 15\n"}))


# ----------------------------------------------- broken copies of real files (tmp only)
@pytest.fixture(scope="module")
def real_curve(shared_data) -> bytes:
    archive = shared_path(shared_data, "ogle4_lmc_cep", "phot_I.tar.gz")
    with tarfile.open(archive, "r|gz") as tf:
        for member in tf:
            if member.name.endswith("OGLE-LMC-CEP-0002.dat"):
                return tf.extractfile(member).read()
    pytest.skip("OGLE-LMC-CEP-0002.dat not in the archive")


@pytest.fixture
def broken_folder(tmp_path, real_curve) -> Path:
    lines = real_curve.splitlines(keepends=True)
    write(tmp_path, "OGLE-LMC-CEP-0002.dat", real_curve)
    write(tmp_path, "OGLE-GOOD-2.dat", real_curve)
    text_token = [*lines[:10], lines[10].replace(lines[10].split()[1], b"abc"), *lines[11:]]
    write(tmp_path, "OGLE-TEXT.dat", b"".join(text_token))
    write(tmp_path, "OGLE-TRUNC.dat", real_curve[: len(real_curve) - 9])
    write(tmp_path, "OGLE-EMPTY.dat", b"")
    t = np.loadtxt(io.BytesIO(real_curve))
    messy = np.vstack([t[::-1], t[:5]])  # unsorted, with 5 repeated epochs
    messy[3, 1] = np.nan
    messy[4, 2] = -0.01
    buf = io.BytesIO()
    np.savetxt(buf, messy, fmt="%.5f %.3f %.3f")
    write(tmp_path, "OGLE-MESSY.dat", buf.getvalue())
    write(tmp_path, "OGLE-ONE.dat", lines[0])
    return tmp_path


@pytest.mark.realdata
def test_broken_copies_skipped_with_reasons(broken_folder, real_curve):
    s = read_ogle(broken_folder, progress=False)
    assert sorted(s.ids) == ["OGLE-GOOD-2", "OGLE-LMC-CEP-0002", "OGLE-MESSY"]
    reasons = {item["id"]: item["reason"] for item in s.skipped}
    assert set(reasons) == {"OGLE-TEXT", "OGLE-TRUNC", "OGLE-EMPTY", "OGLE-ONE"}
    assert "'abc' is not a number" in reasons["OGLE-TEXT"]
    assert "truncated" in reasons["OGLE-TRUNC"]
    assert "empty" in reasons["OGLE-EMPTY"]
    assert "at least 2" in reasons["OGLE-ONE"]
    assert all(item["source"].endswith(f"{item['id']}.dat") for item in s.skipped)
    n = len(np.loadtxt(io.BytesIO(real_curve)))
    messy = s["OGLE-MESSY"]
    assert len(messy) == n - 2 and np.all(np.diff(messy.time) > 0)
    assert s.meta["dropped_epochs"] == {
        "nonfinite": 1,
        "missing": 0,
        "implausible": 0,
        "bad_err": 1,
        "duplicate": 5,
    }
    assert s["OGLE-LMC-CEP-0002"].mag.tolist() == s["OGLE-GOOD-2"].mag.tolist()


@pytest.mark.realdata
def test_broken_copy_strict_names_file(broken_folder):
    with pytest.raises(DataError, match=r"OGLE-EMPTY\.dat.*empty") as info:
        read_ogle(broken_folder, strict=True, progress=False)
    assert info.value.object_id == "OGLE-EMPTY"


# ------------------------------------------------------------------ the real archive
@pytest.fixture(scope="module")
def real_set(shared_data):
    return read_ogle(shared_path(shared_data, "ogle4_lmc_cep", "phot_I.tar.gz"), progress=False)


@pytest.mark.realdata
def test_real_counts_and_labels(real_set, shared_data):
    s = real_set
    assert len(s) == 4647 and not s.skipped
    assert s.bands == ("I",)
    ident = read_ogle_ident(shared_path(shared_data, "ogle4_lmc_cep", "ident.dat"))
    assert all(s.objects["label"] == [ident[i]["label"] for i in s.ids])
    counts = s.class_counts()
    assert counts["F"] == 2429 and counts["1O"] == 1766 and counts["F/1O"] == 95
    assert s.objects["ra"].between(0, 360).all() and s.objects["dec"].between(-90, 0).all()


@pytest.mark.realdata
def test_real_catalog_values(real_set, shared_data):
    s = real_set
    catalog = read_ogle_catalog(shared_path(shared_data, "ogle4_lmc_cep", "cepFO4.dat"))
    assert len(catalog) == 2476
    has_period = s.objects["period"].notna()
    assert has_period.sum() == 2429  # 47 catalogued F-mode stars have no I curve
    assert set(s.objects.loc[has_period, "label"]) == {"F"}
    row = s.objects.set_index("id").loc["OGLE-LMC-CEP-0002"]
    assert row["period"] == 3.1181490
    assert row["t0"] == 6000.34799 + SHIFT
    assert (row["R21"], row["phi21"], row["R31"], row["phi31"]) == (0.295, 4.645, 0.093, 3.004)
    periods = np.array([catalog[i]["period"] for i in s.ids[has_period]])
    assert np.array_equal(s.objects.loc[has_period, "period"].to_numpy(), periods)


@pytest.mark.realdata
def test_real_first_epoch_and_frame(real_set):
    lc = real_set["OGLE-LMC-CEP-0002"]
    assert lc.time[0] == 5262.51951 + 49999.5
    assert (lc.mag[0], lc.err[0]) == (15.709, 0.006)
    assert real_set.meta["time_ref"] == "HJD"


@pytest.mark.realdata
def test_real_autodetect_folder_and_archive(shared_data):
    folder = shared_path(shared_data, "ogle4_lmc_cep")
    assert detect_format(folder) == "ogle"
    assert detect_format(folder / "phot_I.tar.gz") == "ogle"
