"""ASAS training-set and SDSS Stripe 82 RR Lyrae readers, and labels attached from a table.

No real files of these layouts are in the shared data: each test writes small
files of the published layouts (Richards et al. 2012; Sesar et al. 2010).
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from skyclass.cli import app
from skyclass.exceptions import DataError
from skyclass.io import attach_labels, detect_format, read
from skyclass.io.asas import read_asas
from skyclass.io.labels import read_label_table
from skyclass.io.stripe82 import read_stripe82
from skyclass.lightcurve import LightCurveSet

runner = CliRunner()
ASAS_IDS = ["010004-6519.8", "010019-0211.6", "010029-1806.4", "010048-5409.5"]
ASAS_CLASSES = ["RR Lyrae FM", "Mira", "Classical Cepheid", "Beta Persei"]


def asas_curve(k: int, n: int = 30) -> bytes:
    rng = np.random.default_rng(k)
    t = np.sort(1868.8 + rng.uniform(0, 2500, n))
    mag = 11.5 + 0.3 * np.sin(2 * np.pi * t / (0.5 + k)) + rng.normal(0, 0.03, n)
    return "".join(f"{a:.5f},{b:.3f},{0.032:.3f}\n" for a, b in zip(t, mag, strict=True)).encode()


def asas_tarball(folder: Path, members: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ACVS_lightcurves.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(f"lcs/{name}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    classes = "".join(f"{i}.dat,{c}\n" for i, c in zip(ASAS_IDS, ASAS_CLASSES, strict=True))
    (folder / "asas_classes.csv").write_text("filename,class\n" + classes)
    return path


def test_asas_tarball_with_its_class_table(tmp_path: Path) -> None:
    members = {f"{i}.dat": asas_curve(k) for k, i in enumerate(ASAS_IDS)}
    path = asas_tarball(tmp_path, members)
    assert detect_format(path) == "asas"
    s = read(path, progress=False)
    assert s.ids.tolist() == ASAS_IDS and s.labels.tolist() == ASAS_CLASSES
    assert s.meta["time_ref"] == "HJD" and s.meta["labels"]["matched"] == 4
    first = np.loadtxt(io.BytesIO(members[f"{ASAS_IDS[0]}.dat"]), delimiter=",")
    np.testing.assert_allclose(s[ASAS_IDS[0]].time, first[:, 0] + 2450000 - 2400000.5)
    assert read_asas(path, labels=False, progress=False).labels.tolist() == [None] * 4


def test_asas_bad_file_costs_only_itself(tmp_path: Path) -> None:
    members = {f"{i}.dat": asas_curve(k) for k, i in enumerate(ASAS_IDS)}
    members[f"{ASAS_IDS[2]}.dat"] = members[f"{ASAS_IDS[2]}.dat"][:-12]  # cut mid-row
    members[f"{ASAS_IDS[3]}.dat"] = members[f"{ASAS_IDS[3]}.dat"].replace(b"0.032", b"99.999", 3)
    s = read(asas_tarball(tmp_path, members), progress=False)
    assert len(s) == 3 and s.meta["dropped_epochs"]["implausible"] == 3
    (skip,) = s.skipped
    assert skip["id"] == ASAS_IDS[2] and "truncated" in skip["reason"]
    assert skip["source"].endswith(f"lcs/{ASAS_IDS[2]}.dat")


def stripe82_row(mjd: float, mags: list[float], missing: set[int] = frozenset()) -> str:
    parts = ["0.935679", "1.264872"]
    for k, mag in enumerate(mags):
        parts += ["-99.99"] * 3 if k in missing else [f"{mjd:.5f}", f"{mag:.3f}", "0.021"]
    return " ".join(parts)


def stripe82_folder(folder: Path, ids: list[str], *, table: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for star in ids:
        rows = []
        for j, mjd in enumerate(np.sort(51075 + rng.uniform(0, 2900, 40))):
            base = 16.5 + 0.4 * np.sin(2 * np.pi * mjd / 0.5581)
            rows.append(stripe82_row(mjd, [base + 1.2, base, base - 0.2, base - 0.3, base - 0.3],
                                     missing={0, 4} if j < 3 else set()))  # fmt: skip
        (folder / star).write_text("\n".join(rows) + "\n")
    if table:
        lines = [
            f"{star} {'ab' if k % 2 else 'c'} {0.5 + k / 100:.6f} 16.5"
            for k, star in enumerate(ids)
        ]
        (folder.parent / "table2.dat").write_text("# id type P rExt\n" + "\n".join(lines) + "\n")
    return folder


def test_stripe82_folder_with_type_and_period(tmp_path: Path) -> None:
    ids = ["1000035", "1001412", "1004097"]
    folder = stripe82_folder(tmp_path / "lcs", ids)
    assert detect_format(folder) == "sdss_stripe82"
    s = read(folder, progress=False)
    assert sorted(s.ids) == ids and sorted(s.bands) == ["g", "i", "r", "u", "z"]
    obj = s.objects.set_index("id")
    assert obj.loc["1001412", "label"] == "ab" and obj.loc["1000035", "label"] == "c"
    assert obj.loc["1001412", "period"] == pytest.approx(0.51)
    assert obj.loc["1000035", "rExt"] == pytest.approx(16.5)
    per_band = s.epochs_per_band().loc["1000035"]
    assert per_band["g"] == 40 and per_band["u"] == 37 and per_band["z"] == 37
    assert s.meta["dropped_epochs"]["missing"] == 3 * 2 * 3  # 3 rows × u, z × 3 stars
    assert s.meta["time_ref"] == "JD" and s.time.min() > 51075
    only_gr = read_stripe82(folder, bands=("g", "r"), table=False, progress=False)
    assert set(only_gr.bands) == {"g", "r"} and "label" not in only_gr.objects


def test_stripe82_bad_file_costs_only_itself(tmp_path: Path) -> None:
    ids = ["1000035", "1001412", "1004097", "1005218"]
    folder = stripe82_folder(tmp_path / "lcs", ids)
    text = (folder / "1004097").read_text().splitlines()
    text[5] = text[5].replace("0.021", "x.021", 1)
    (folder / "1004097").write_text("\n".join(text) + "\n")
    (folder / "1005218").write_bytes((folder / "1005218").read_bytes()[:-20])
    s = read(folder, progress=False)
    assert sorted(s.ids) == ["1000035", "1001412"]
    reasons = {k["id"]: k["reason"] for k in s.skipped}
    assert "line 6: 'x.021' is not a number" in reasons["1004097"]
    assert "truncated" in reasons["1005218"]
    with pytest.raises(DataError) as info:
        read(folder, progress=False, strict=True)
    assert "\n" not in str(info.value) and "1004097" in str(info.value)


def test_label_table_layouts(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("1000035 ab 0.55\n1001412 c 0.33\n")
    assert read_label_table(plain).columns.tolist() == ["col0", "col1", "col2"]
    named = tmp_path / "named.csv"
    named.write_text("Name,Target\nstar-1,0.25\nstar-2,-1.5\n")
    assert read_label_table(named).columns.tolist() == ["Name", "Target"]


def small_set(ids: list[str]) -> LightCurveSet:
    from skyclass import LightCurve

    curves = [
        LightCurve(time=[0, 1, 2], mag=[15, 15.2, 15.1], err=[0.1] * 3, band="V", id=i) for i in ids
    ]
    return LightCurveSet.from_lightcurves(curves)


def test_attach_numbers_and_refusals(tmp_path: Path) -> None:
    s = small_set(["a", "b", "c"])
    numbers = attach_labels(s, pd.DataFrame({"id": ["a", "b"], "feh": ["-1.5", "-0.8"]}))
    assert numbers.objects["label"].dtype == np.float64
    assert numbers.labels[:2].tolist() == [-1.5, -0.8] and np.isnan(numbers.labels[2])
    with pytest.raises(DataError, match="no id of the label table"):
        attach_labels(s, pd.DataFrame({"id": ["x"], "class": ["RR"]}))
    with pytest.raises(DataError, match=r"several different labels"):
        attach_labels(s, pd.DataFrame({"id": ["a", "a"], "class": ["RR", "EB"]}))


def test_convert_with_labels_for_any_reader(tmp_path: Path) -> None:
    csv = tmp_path / "curves.csv"
    csv.write_text(
        "name,hjd,mag,magerr\n"
        + "".join(f"{i},{2455000.5 + d},{15 + d / 10},0.02\n" for i in "ab" for d in range(3))
    )
    table = tmp_path / "classes.csv"
    table.write_text("object,kind\na,RRAB\nb,EB\n")
    out = tmp_path / "set.parquet"
    args = ["convert", str(csv), "-o", str(out), "--labels", str(table)]
    result = runner.invoke(app, [*args, "--labels-id", "object", "--labels-column", "kind"])
    assert result.exit_code == 0, result.output
    assert read(out).labels.tolist() == ["RRAB", "EB"]
    assert "2 objects labelled" in " ".join(result.output.split())
    bad = runner.invoke(app, [*args, "--labels-id", "kind"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    unwrapped = "".join(bad.output.split())  # rich wraps long lines
    assert str(table) in unwrapped and "--labels-id" in unwrapped


def test_convert_missing_values_option(tmp_path: Path) -> None:
    csv = tmp_path / "curves.csv"
    csv.write_text(
        "hjd,mag,magerr\n2455000.5,15.0,0.02\n2455001.5,30.0,0.02\n2455002.5,15.1,0.02\n"
    )
    out = tmp_path / "set.parquet"
    result = runner.invoke(app, ["convert", str(csv), "-o", str(out), "--missing-values=30.0"])
    assert result.exit_code == 0, result.output
    assert read(out).meta["dropped_epochs"]["missing"] == 1
    bad = runner.invoke(app, ["convert", str(csv), "-o", str(out), "--missing-values=x"])
    assert bad.exit_code == 2 and "comma-separated list of numbers" in " ".join(bad.output.split())
