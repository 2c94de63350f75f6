"""gaia_folded: Dékány & Grebel's folded Gaia G RRab curves read straight from the tar.

Broken archives are written at test time into ``tmp_path``, from synthetic
curves everywhere and from copies of real members where the shared data exist.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import shared_path
from skyclass.exceptions import DataError
from skyclass.io import detect_format, read
from skyclass.io.folded import read_folded_labels, read_gaia_folded

LABELS_HEADER = "# source_id fold feh feh_pred_dekany2022\n"


def curve_text(seed: int, n: int = 20, wrap: float = 0.2) -> bytes:
    """A folded, binned curve written like the archive's: phases 0-1 plus a wrapped copy."""
    rng = np.random.default_rng(seed)
    phase = np.sort(rng.uniform(0, 1, n)).round(6)
    mag = (16 + 0.4 * np.sin(2 * np.pi * phase) + rng.normal(0, 0.01, n)).round(6)
    copy = phase < wrap
    phase = np.r_[phase, phase[copy] + 1]
    mag = np.r_[mag, mag[copy]]
    return "".join(f"{p:.6f} {m:.6f}\n" for p, m in zip(phase, mag, strict=True)).encode()


def write_tar(path: Path, members: dict[str, bytes], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        folder = tarfile.TarInfo("lc_dev_g")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        for sid, data in members.items():
            info = tarfile.TarInfo(f"lc_dev_g/{sid}_bin.dat")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def synthetic(tmp_path: Path) -> Path:
    """A folder like the shared one: 5 curves, 3 of them labelled, one label without curve."""
    members = {str(1000 + k): curve_text(k) for k in range(5)}
    write_tar(tmp_path / "lc_dev_g.tar.gz", members)
    (tmp_path / "labels.dat").write_text(
        LABELS_HEADER + "1000 0 -1.5 -1.4\n1002 3 -0.75 -0.9\n1004 8 -2.0 -1.8\n9999 1 -1 -1\n"
    )
    return tmp_path


def test_reads_synthetic_folder(synthetic: Path) -> None:
    assert detect_format(synthetic) == "gaia_folded"
    assert detect_format(synthetic / "lc_dev_g.tar.gz") == "gaia_folded"
    s = read(synthetic, progress=False)
    assert len(s) == 5 and not s.skipped
    assert s.objects.columns.tolist() == ["id", "label", "fold", "feh_pred_dekany2022"]
    assert str(s.objects["fold"].dtype) == "Int64"
    by_id = s.objects.set_index("id")
    assert by_id.loc["1002", "label"] == -0.75 and by_id.loc["1002", "fold"] == 3
    assert np.isnan(by_id.loc["1001", "label"]) and pd.isna(by_id.loc["1001", "fold"])
    assert s.meta["n_labelled"] == 3 and s.meta["labels_without_curve"] == 1
    assert s.meta["time_ref"] == "phase" and s.meta["time_shift"] == 0.0 and s.meta["folded"]
    assert s.bands == ("G",) and np.isnan(s.err).all()
    assert s.time.max() < 1.0 and s.meta["wrapped_dropped"] > 0
    phase, mag = np.loadtxt(io.BytesIO(curve_text(2))).T
    keep = phase < 1
    np.testing.assert_array_equal(s["1002"].time, phase[keep])
    np.testing.assert_array_equal(s["1002"].mag, mag[keep])


def test_keep_wrapped_and_label_options(synthetic: Path) -> None:
    s = read_gaia_folded(synthetic / "lc_dev_g.tar.gz", keep_wrapped=True, labels=False)
    phase, mag = np.loadtxt(io.BytesIO(curve_text(2))).T
    np.testing.assert_array_equal(s["1002"].time, phase)
    np.testing.assert_array_equal(s["1002"].mag, mag)
    assert s.meta["wrapped_dropped"] == 0 and s.objects["label"].isna().all()
    other = synthetic / "other_labels.dat"
    other.write_text("1001 5 -1.1 -1.2\n")  # no header line: the standard column order
    t = read_gaia_folded(synthetic, labels=other, progress=False)
    assert t.meta["n_labelled"] == 1 and t.objects.set_index("id").loc["1001", "fold"] == 5
    with pytest.raises(DataError, match="labels file not found"):
        read_gaia_folded(synthetic, labels=synthetic / "nope.dat")


def test_extracted_folder_and_plain_tar(synthetic: Path, tmp_path: Path) -> None:
    ref = read_gaia_folded(synthetic, progress=False)
    plain = write_tar(
        tmp_path / "plain.tar", {str(1000 + k): curve_text(k) for k in range(5)}, mode="w"
    )
    assert detect_format(plain) == "gaia_folded"
    extracted = tmp_path / "extracted"
    extracted.mkdir()
    for k in range(5):
        (extracted / f"{1000 + k}_bin.dat").write_bytes(curve_text(k))
    assert detect_format(extracted) == "gaia_folded"
    for other in (read_gaia_folded(plain, labels=False), read_gaia_folded(extracted)):
        for sid in ref.ids:
            np.testing.assert_array_equal(other[sid].time, ref[sid].time)
            np.testing.assert_array_equal(other[sid].mag, ref[sid].mag)


def test_labels_file_problems(tmp_path: Path) -> None:
    twice = tmp_path / "twice.dat"
    twice.write_text(LABELS_HEADER + "1 0 -1 -1\n1 2 -1 -1\n")
    with pytest.raises(DataError, match="listed twice"):
        read_folded_labels(twice)
    nofeh = tmp_path / "nofeh.dat"
    nofeh.write_text("# source_id fold\n1 0\n")
    with pytest.raises(DataError, match="no 'feh' column") as info:
        read_folded_labels(nofeh)
    assert info.value.source == str(nofeh)


# ------------------------------------------------------------------ broken copies
@pytest.fixture(params=["synthetic", pytest.param("real", marks=pytest.mark.realdata)])
def good_members(request: pytest.FixtureRequest) -> dict[str, bytes]:
    """Six good ``_bin.dat`` contents by star id: synthetic, or copies of real members."""
    if request.param == "synthetic":
        return {str(2000 + k): curve_text(10 + k) for k in range(6)}
    root = request.getfixturevalue("shared_data")
    archive = shared_path(root, "dekany_gaia_g_rrab", "lc_dev_g.tar.gz")
    members: dict[str, bytes] = {}
    with tarfile.open(archive) as tar:
        for member in tar:
            if member.isfile() and member.name.endswith("_bin.dat"):
                members[Path(member.name).name[: -len("_bin.dat")]] = tar.extractfile(member).read()
            if len(members) == 6:
                return members
    raise AssertionError("the shared archive holds fewer than six curves")


def broken_members(good: dict[str, bytes]) -> tuple[dict[str, bytes], dict[str, str]]:
    """Break three of the curves; returns the members and the expected reason per id."""
    ids = list(good)
    members = dict(good)
    lines = good[ids[0]].decode().splitlines()
    lines[3] = f"{lines[3].split()[0]} abc"
    members[ids[0]] = ("\n".join(lines) + "\n").encode()
    members[ids[1]] = b""
    members[ids[2]] = good[ids[2]].decode().splitlines()[0].encode() + b"\n"
    reasons = {ids[0]: "line 4: 'abc' is not a number", ids[1]: "empty", ids[2]: "only 1 good"}
    return members, reasons


def test_broken_members_are_skipped_and_listed(
    good_members: dict[str, bytes], tmp_path: Path
) -> None:
    members, reasons = broken_members(good_members)
    archive = write_tar(tmp_path / "lc_dev_g.tar.gz", members)
    s = read_gaia_folded(archive, progress=False)
    assert sorted(s.ids) == sorted(set(members) - set(reasons))
    got = {k["id"]: k for k in s.skipped}
    assert set(got) == set(reasons)
    for sid, reason in reasons.items():
        assert reason in got[sid]["reason"]
        assert got[sid]["source"].endswith(f"lc_dev_g/{sid}_bin.dat")


def test_broken_member_strict_names_file_and_object(
    good_members: dict[str, bytes], tmp_path: Path
) -> None:
    members, reasons = broken_members(good_members)
    archive = write_tar(tmp_path / "lc_dev_g.tar.gz", members)
    with pytest.raises(DataError) as info:
        read_gaia_folded(archive, strict=True)
    first = next(iter(reasons))
    assert info.value.object_id == first
    assert str(archive) in str(info.value) and f"{first}_bin.dat" in str(info.value)


def test_truncated_archive(good_members: dict[str, bytes], tmp_path: Path) -> None:
    whole = write_tar(tmp_path / "whole.tar.gz", good_members)
    data = whole.read_bytes()
    cut = tmp_path / "cut" / "lc_dev_g.tar.gz"
    cut.parent.mkdir()
    cut.write_bytes(data[: int(len(data) * 0.6)])
    s = read_gaia_folded(cut.parent, progress=False)
    assert 0 < len(s) < len(good_members)
    assert len(s.skipped) == 1 and "truncated" in s.skipped[0]["reason"]
    assert s.skipped[0]["source"] == str(cut)
    for sid in s.ids:  # what was read before the cut is intact
        phase, mag = np.loadtxt(io.BytesIO(good_members[sid])).T
        np.testing.assert_array_equal(s[sid].mag, mag[np.argsort(phase)][: len(s[sid])])
    with pytest.raises(DataError, match="truncated") as info:
        read_gaia_folded(cut, strict=True)
    assert info.value.source == str(cut)
    nothing = tmp_path / "nothing.tar.gz"
    nothing.write_bytes(data[:200])
    with pytest.raises(DataError, match="no readable light curve"):
        read_gaia_folded(nothing, progress=False)


# ------------------------------------------------------------------ real data
@pytest.mark.realdata
def test_real_archive(shared_data: Path) -> None:
    folder = shared_path(shared_data, "dekany_gaia_g_rrab")
    assert detect_format(folder) == "gaia_folded"
    s = read(folder, format="auto", progress=False)
    assert len(s) == 13_323 and not s.skipped
    assert s.meta["n_labelled"] == 4_013 and s.objects["label"].notna().sum() == 4_013
    assert s.meta["labels_without_curve"] == 0
    assert sorted(s.objects["fold"].dropna().unique().tolist()) == list(range(9))
    assert s.objects["fold"].isna().sum() == 13_323 - 4_013
    assert np.isnan(s.err).all() and s.bands == ("G",)
    assert s.time.min() >= 0 and s.time.max() < 1  # the wrapped copies past phase 1 dropped
    assert s.meta["wrapped_dropped"] > 0

    with open(folder / "labels.dat") as fh:
        lines = [ln.split() for ln in fh if not ln.startswith("#")]
    sid, fold, feh, pred = lines[0][0], int(lines[0][1]), float(lines[0][2]), float(lines[0][3])
    assert len(lines) == 4_013
    row = s.objects.set_index("id").loc[sid]
    assert row["label"] == feh and row["fold"] == fold and row["feh_pred_dekany2022"] == pred
    with tarfile.open(folder / "lc_dev_g.tar.gz") as tar:
        member = tar.extractfile(f"lc_dev_g/{sid}_bin.dat")
        first = member.readline().split()
    lc = s[sid]
    assert (lc.time[0], lc.mag[0]) == (float(first[0]), float(first[1]))
