"""Every bad input a user brings, built at test time from real-looking rows.

For each case: either one clear line naming the file, the object and the fix, or the
bad object skipped with its reason while every other object is kept
(kept = given − bad).
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from skyclass import LightCurve, LightCurveSet
from skyclass.exceptions import DataError, DataWarning
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


# ------------------------------------------------------------------ OGLE .dat folders
def dat_bytes(row: dict[str, Any]) -> bytes:
    """An OGLE .dat file: HJD − 2450000, I, σI, as OGLE writes them."""
    lines = [
        f"{t:.5f} {m:.3f} {e:.3f}\n"
        for t, m, e in zip(row["time"], row["mag"], row["err"], strict=True)
    ]
    return "".join(lines).encode()


def _ogle_broken(data: bytes) -> dict[str, bytes | None]:
    """Broken copies of one good .dat file; None where the case is built elsewhere."""
    lines = data.splitlines(keepends=True)
    text = [*lines[:10], lines[10].replace(lines[10].split()[1], b"abc"), *lines[11:]]
    values = np.loadtxt(io.BytesIO(data))
    with_nan, zero_err = values.copy(), values.copy()
    with_nan[[3, 8], 1] = [np.nan, np.inf]
    zero_err[5, 2] = 0.0
    messy = np.vstack([values[::-1], values[:5]])  # unsorted, 5 epochs repeated

    def text_of(v: np.ndarray) -> bytes:
        buf = io.BytesIO()
        np.savetxt(buf, v, fmt="%.5f %.3f %.3f")
        return buf.getvalue()

    return {
        "truncated": data[: len(data) - 9],
        "text in numbers": b"".join(text),
        "empty": b"",
        "binary garbage": bytes(range(256)) * 4,
        "nan and inf": text_of(with_nan),
        "zero error": text_of(zero_err),
        "duplicates and unsorted": text_of(messy),
    }


# case: (skipped?, words in the reason or dropped-epoch key)
OGLE_CASES = {
    "truncated": (True, "truncated"),
    "text in numbers": (True, "'abc' is not a number"),
    "empty": (True, "empty"),
    "binary garbage": (True, "exactly three columns"),
    "nan and inf": (False, "nonfinite"),
    "zero error": (False, "bad_err"),
    "duplicates and unsorted": (False, "duplicate"),
}


def ogle_folder(folder: Path, case: str) -> Path:
    rows = cepheid_rows()
    for row in rows:
        (folder / f"{row['id']}.dat").parent.mkdir(parents=True, exist_ok=True)
        (folder / f"{row['id']}.dat").write_bytes(dat_bytes(row))
    bad = rows[3]["id"]
    (folder / f"{bad}.dat").write_bytes(_ogle_broken(dat_bytes(rows[3]))[case])
    return folder / f"{bad}.dat"


@pytest.mark.parametrize("case", sorted(OGLE_CASES))
def test_ogle_folder_bad_file(tmp_path: Path, case: str) -> None:
    skipped, words = OGLE_CASES[case]
    bad_file = ogle_folder(tmp_path, case)
    s = read(tmp_path, progress=False)
    assert len(s) == GIVEN - int(skipped)
    if skipped:
        (skip,) = s.skipped
        assert skip["id"] == bad_file.stem and skip["source"] == str(bad_file)
        assert words in skip["reason"]
        with pytest.raises(DataError) as info:
            read(tmp_path, progress=False, strict=True)
        message = str(info.value)
        assert "\n" not in message and str(bad_file) in message and bad_file.stem in message
    else:
        assert not s.skipped and s.meta["dropped_epochs"][words] >= 1
        assert np.all(np.diff(s[bad_file.stem].time) > 0)


def test_truncated_tar_gz_keeps_what_was_read(tmp_path: Path) -> None:
    rows = cepheid_rows(n=GIVEN, n_epochs=400)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for row in rows:
            data = dat_bytes(row)
            info = tarfile.TarInfo(f"I/{row['id']}.dat")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    whole = buf.getvalue()
    path = tmp_path / "phot_I.tar.gz"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    s = read(path, progress=False)
    assert 0 < len(s) < GIVEN
    assert "damaged" in s.skipped[-1]["reason"] and str(path) in s.skipped[-1]["source"]
    with pytest.raises(DataError, match="damaged") as info:
        read(path, progress=False, strict=True)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_other_files_in_a_survey_folder_are_named(tmp_path: Path) -> None:
    ogle_folder(tmp_path, "nan and inf")
    (tmp_path / "OGLE-LMC-CEP-0100.txt").write_bytes(dat_bytes(cepheid_rows(1)[0]))
    (tmp_path / "extra.csv").write_text("hjd,mag,err\n5262.5,15.7,0.006\n")
    (tmp_path / "README.txt").write_text("OGLE-IV photometry\n")
    with pytest.warns(DataWarning, match=r"2 file\(s\) not read.*OGLE-LMC-CEP-0100\.txt"):
        s = read(tmp_path, progress=False)
    assert len(s) == GIVEN
    assert s.meta["ignored_files"] == ["OGLE-LMC-CEP-0100.txt", "extra.csv"]


# ------------------------------------------------------------------ generic CSV
def long_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    lines = ["name,hjd,mag,magerr\n"]
    for row in rows:
        lines += [
            f"{row['id']},{t + 2450000:.5f},{m:.3f},{e:.3f}\n"
            for t, m, e in zip(row["time"], row["mag"], row["err"], strict=True)
        ]
    path.write_text("".join(lines))
    return path


def test_csv_implausible_and_missing_values(tmp_path: Path) -> None:
    rows = cepheid_rows()
    rows[1]["mag"][[2, 30]] = 1e30
    rows[2]["mag"][4] = 99.99
    rows[2]["mag"][6] = -99.99
    rows[5]["mag"][:] = 99.99  # never measured: no epoch left
    path = long_csv(tmp_path / "curves.csv", rows)
    s = read(path, progress=False)
    assert len(s) == GIVEN - 1
    assert s.meta["dropped_epochs"]["implausible"] == 2 + 2  # in the objects kept
    (skip,) = s.skipped
    assert skip["id"] == "OGLE-LMC-CEP-0006" and "implausible" in skip["reason"]
    assert np.all(np.abs(s.mag - 15.7) < 1)
    sentinel = read(path, progress=False, missing_values=[99.99, -99.99])
    assert sentinel.meta["dropped_epochs"]["missing"] == 2
    assert sentinel.meta["dropped_epochs"]["implausible"] == 2


# ------------------------------------------------------------------ EROS star table
def test_eros_period_text_is_a_skip_with_its_reason(tmp_path: Path) -> None:
    rows = cepheid_rows()
    table = [",magnitude_b,magnitude_r,period,div_period,type\n"]
    features = [
        ",time_points_b,time_points_r,light_points_b,light_points_r,"
        "error_points_b,error_points_r,bkg_points_b,bkg_points_r\n"
    ]
    for k, row in enumerate(rows):
        oid = f"1_{k}"
        period = "oops" if k == 4 else f"{PERIOD:.4f}"
        table.append(f"{oid},19.1,18.8,{period},1.0,2\n")
        t, m, e = (", ".join(f"{v:.3f}" for v in row[c]) for c in ("time", "mag", "err"))
        features.append(f'{oid},"[{t}]","[{t}]","[{m}]","[{m}]","[{e}]","[{e}]","[]","[]"\n')
    (tmp_path / "train.csv").write_text("".join(table))
    with gzip.open(tmp_path / "train_varlength_features.csv.gz", "wt") as fh:
        fh.write("".join(features))
    s = read(tmp_path, progress=False)
    assert len(s) == GIVEN - 1 and np.isfinite(s.objects["period"]).all()
    (skip,) = s.skipped
    assert skip["id"] == "1_4" and skip["source"] == str(tmp_path / "train.csv")
    assert "period='oops' in train.csv is not a number" in skip["reason"]


# ------------------------------------------------------------------ through the CLI and predict
def test_period_command_over_bad_rows(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from skyclass.cli import app

    def several(lc):
        _nan_mag(lc)
        _negative_err(lc)
        _repeated_epoch(lc)

    path = write_canonical(tmp_path / "set.parquet", several)
    out = tmp_path / "periods.parquet"
    result = CliRunner().invoke(
        app, ["period", str(path), "-o", str(out), "--set", "fmin=0.05", "--set", "fmax=2"]
    )
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert f"periods for {GIVEN} of {GIVEN} objects" in " ".join(result.output.split())


def test_strict_convert_is_one_line_and_exits_non_zero(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from skyclass.cli import app

    bad_file = ogle_folder(tmp_path / "ogle", "truncated")
    args = ["convert", str(tmp_path / "ogle"), "-o", str(tmp_path / "set.parquet")]
    result = CliRunner().invoke(app, [*args, "--set", "strict=true"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    unwrapped = "".join(result.output.split())
    assert str(bad_file) in unwrapped and "truncated" in unwrapped
    kept = CliRunner().invoke(app, args)
    assert kept.exit_code == 0 and f"wrote {GIVEN - 1} objects" in " ".join(kept.output.split())


def test_predict_keeps_a_chunk_with_repairable_rows(tmp_path: Path, one_torch_thread) -> None:
    """A NaN magnitude, reversed times or a negative error no longer cost the chunk."""
    from skyclass.estimator import LightCurveClassifier
    from skyclass.predict import predict_catalogue, read_predictions

    train = read(write_canonical(tmp_path / "train.parquet", lambda lc: None))
    labels = ["RRc" if k % 2 else "DCEP" for k in range(len(train))]
    est = LightCurveClassifier(
        model="mlp_features",
        representations={"features": {"features": ["amplitude", "mean_mag", "n_epochs"]}},
        train={"max_epochs": 1, "batch_size": 8},
        progress=False,
    ).fit(train.with_objects(train.objects.assign(label=labels)))
    model = est.save(tmp_path / "model")

    def several(lc):
        _nan_mag(lc)
        _negative_err(lc)

    shards = tmp_path / "shards"
    shards.mkdir()
    write_canonical(shards / "a.parquet", several)
    write_canonical(shards / "b.parquet", _reversed)
    report = predict_catalogue(model, shards, tmp_path / "out", progress=False)
    assert report.n_units_failed == 0
    predictions = read_predictions(tmp_path / "out")
    assert len(predictions) == 2 * GIVEN and predictions["predicted"].notna().all()

    # a row the reader refuses (lists of different lengths) costs that row alone
    def uneven(lc):
        lc["mag"] = lc["mag"][:-3]

    refused = tmp_path / "refused"
    refused.mkdir()
    write_canonical(refused / "c.parquet", uneven)
    report = predict_catalogue(model, refused, tmp_path / "out2", progress=False)
    assert report.n_units_failed == 0
    table = read_predictions(tmp_path / "out2").set_index("object_id")
    assert len(table) == GIVEN and table["predicted"].notna().sum() == GIVEN - 1
    assert "differ in length" in table.loc["OGLE-LMC-CEP-0004", "error"]


def test_other_files_beside_folded_curves_are_named(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    for k in range(GIVEN):
        phase = np.sort(rng.uniform(0, 1, 50))
        mag = 17.2 + 0.4 * np.sin(2 * np.pi * phase)
        lines = "".join(f"{p:.4f} {m:.4f}\n" for p, m in zip(phase, mag, strict=True))
        (tmp_path / f"{4657982000 + k}_bin.dat").write_text(lines)
    (tmp_path / f"{4657982000 + GIVEN}_bin.csv").write_text("phase,mag\n0.1,17.2\n")
    with pytest.warns(DataWarning, match=r"_bin\.csv"):
        s = read(tmp_path, format="gaia_folded", progress=False)
    assert len(s) == GIVEN and s.meta["ignored_files"] == [f"{4657982000 + GIVEN}_bin.csv"]


# ------------------------------------------------------------------ broken copies of real rows
@pytest.mark.realdata
def test_real_gaia_rows_with_a_repeated_id_and_a_corrupt_magnitude(shared_data, tmp_path) -> None:
    from conftest import shared_path

    real = pq.read_table(shared_path(shared_data, "gaia_dr3_vari", "lightcurves.parquet"))
    rows = real.slice(0, GIVEN).to_pylist()
    rows.append(dict(rows[6], source_id=rows[2]["source_id"]))  # another star under 2's id
    rows[4]["mag"] = [1e30 if k in (1, 5) else m for k, m in enumerate(rows[4]["mag"])]
    path = tmp_path / "lightcurves.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=real.schema), path)
    s = read(path, progress=False)
    assert len(s) == GIVEN - 1 and str(rows[2]["source_id"]) not in s.ids
    (skip,) = s.skipped
    assert skip["id"] == str(rows[2]["source_id"]) and str(path) in skip["reason"]
    assert s.meta["dropped_epochs"]["implausible"] == 2
    assert s.mag.max() < 25


# ------------------------------------------------------------------ every case through the CLI
def _uneven(lc):
    lc["mag"] = lc["mag"][:-3]


CANONICAL_CLI = {
    **{k: (edit, 0) for k, (edit, _, _) in REPAIRED.items()},
    "uneven lists": (_uneven, 1),
}


def _convert(source: Path, out: Path, *options: str):
    from typer.testing import CliRunner

    from skyclass.cli import app

    result = CliRunner().invoke(app, ["convert", str(source), "-o", str(out), *options])
    assert "Traceback" not in result.output and (
        result.exception is None or isinstance(result.exception, SystemExit)
    ), result.output
    return result, " ".join(result.output.split())


@pytest.mark.parametrize("case", sorted(OGLE_CASES))
def test_convert_over_a_bad_ogle_file_keeps_the_others_or_says_one_line(tmp_path, case) -> None:
    skipped, _ = OGLE_CASES[case]
    bad_file = ogle_folder(tmp_path / "ogle", case)
    result, text = _convert(tmp_path / "ogle", tmp_path / "set.parquet")
    assert result.exit_code == 0 and f"wrote {GIVEN - int(skipped)} objects" in text, text
    strict, _ = _convert(tmp_path / "ogle", tmp_path / "strict.parquet", "--set", "strict=true")
    if skipped:
        assert strict.exit_code == 2 and strict.output.count("error:") == 1, strict.output
        assert str(bad_file) in "".join(strict.output.split("error:")[1].split())
    else:
        assert strict.exit_code == 0, strict.output


@pytest.mark.parametrize("case", sorted(CANONICAL_CLI))
def test_convert_over_a_bad_canonical_row_keeps_the_others(tmp_path, case) -> None:
    edit, bad = CANONICAL_CLI[case]
    path = write_canonical(tmp_path / "set.parquet", edit)
    result, text = _convert(path, tmp_path / "out.parquet")
    assert result.exit_code == 0 and f"wrote {GIVEN - bad} objects" in text, text
    assert len(read(tmp_path / "out.parquet")) == GIVEN - bad
