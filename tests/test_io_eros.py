"""EROS reader: hand-made files, broken copies of the first real rows, the real data set."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import shared_path
from skyclass.exceptions import DataError
from skyclass.io import detect_format, read
from skyclass.io.eros import EROS_CLASSES, parse_list_cell, read_eros

HEADER = (
    ",time_points_b,time_points_r,light_points_b,light_points_r,"
    "error_points_b,error_points_r,bkg_points_b,bkg_points_r\n"
)


def features_row(oid: str, tb: str, tr: str, mb: str, mr: str, eb: str, er: str) -> str:
    return f'{oid},"{tb}","{tr}","{mb}","{mr}","{eb}","{er}","[]","[]"\n'


def make_eros(folder: Path, rows: list[str], table: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.csv").write_text(table)
    with gzip.open(folder / "train_varlength_features.csv.gz", "wt") as fh:
        fh.write(HEADER + "".join(rows))
    return folder


TABLE = (
    ",magnitude_b,magnitude_r,period,div_period,type,quality,log_p_not_variable\n"
    "1_10,19.1,18.8,2.4,4.0,3,1,-2.8\n"
    "1_11,17.6,15.3,280.0,2.0,4,2,-14.5\n"
)
ROWS = [
    features_row(
        "1_10", "[3.0, 1.0, 2.0]", "[1.5, 2.5]", "[19.1, 19.0, 19.2]", "[18.8, 18.9]",
        "[0.1, 0.1, 0.1]", "[0.2, 0.2]",
    ),
    features_row("1_11", "[1.0, 2.0]", "[1.0, 3.0]", "[17.0, 17.5]", "[15.0, 15.1]",
                 "[0.05, 0.05]", "[0.04, 0.04]"),
]  # fmt: skip


# ----------------------------------------------------------------- by hand
@pytest.mark.parametrize(
    ("cell", "expected"),
    [("[1.5, 2.0,3]", [1.5, 2.0, 3.0]), ("[]", []), (" [ 7 ] ", [7.0]), ("[nan, 1]", None)],
)
def test_parse_list_cell(cell, expected):
    values = parse_list_cell(cell)
    if expected is None:
        assert np.isnan(values[0]) and values[1] == 1
    else:
        assert values.tolist() == expected


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("[1.0, x]", "'x' is not a number"),
        ("[1.0, 2.0", "not a bracketed list"),
        ("1.0, 2.0", "not a bracketed list"),
        (float("nan"), "is empty"),
        ("[1.0,, 2.0]", "'' is not a number"),
    ],
)
def test_parse_list_cell_errors(cell, message):
    with pytest.raises(DataError, match=message):
        parse_list_cell(cell, column="time_points_b")


def test_hand_made_set(tmp_path):
    folder = make_eros(tmp_path / "eros", ROWS, TABLE)
    s = read_eros(folder, progress=False)
    assert s.ids.tolist() == ["1_10", "1_11"]
    assert s.bands == ("B", "R")
    lc = s["1_10"]
    assert lc.time.tolist() == [1.0, 1.5, 2.0, 2.5, 3.0]  # bands merged and sorted
    assert lc.band.tolist() == ["B", "R", "B", "R", "B"]
    assert lc.mag.tolist() == [19.0, 18.8, 19.2, 18.9, 19.1]
    # the same time in two bands is two epochs, not a duplicate
    assert s["1_11"].time.tolist() == [1.0, 1.0, 2.0, 3.0]
    obj = s.objects.set_index("id")
    assert obj.loc["1_10", "label"] == "rr_lyrae" and obj.loc["1_10", "type"] == 3
    assert obj.loc["1_10", "period"] == pytest.approx(0.6)
    assert obj.loc["1_10", "period_auto"] == 2.4 and obj.loc["1_10", "div_period"] == 4
    assert obj.loc["1_11", "label"] == "mira" and obj.loc["1_11", "quality"] == 2
    assert s.meta["time_ref"] == "unknown" and s.meta["time_shift"] == 0
    assert np.isnan(obj["ra"]).all()  # no coordinate columns in this table


def test_either_file_finds_its_sibling(tmp_path):
    folder = make_eros(tmp_path / "eros", ROWS, TABLE)
    whole = read_eros(folder, progress=False)
    for path in (folder / "train.csv", folder / "train_varlength_features.csv.gz"):
        assert read_eros(path, progress=False).equals(whole)
        assert detect_format(path) == "eros"
    assert detect_format(folder) == "eros"
    assert read(folder, progress=False).equals(whole)


def test_missing_sibling_and_columns(tmp_path):
    folder = make_eros(tmp_path / "eros", ROWS, TABLE)
    (folder / "train.csv").unlink()
    with pytest.raises(DataError, match=r"train\.csv is missing"):
        read_eros(folder, progress=False)
    folder = make_eros(tmp_path / "nodiv", ROWS, TABLE.replace("div_period", "divisor"))
    with pytest.raises(DataError, match=r"missing column\(s\) \['div_period'\]"):
        read_eros(folder, progress=False)


def test_bad_rows_are_skipped_with_reasons(tmp_path):
    table = TABLE + "1_12,1,1,1.0,1.0,7,0,0\n1_13,1,1,1.0,1.0,1,0,0\n1_14,1,1,1.0,1.0,1,0,0\n"
    rows = [
        *ROWS,
        features_row("1_12", "[1, 2]", "[1]", "[1, 2]", "[1]", "[1, 1]", "[1]"),  # type 7
        features_row("1_13", "[1, 2]", "[1]", "[1, 2]", "[1]", "[1]", "[1]"),  # lengths
        features_row("1_99", "[1, 2]", "[1]", "[1, 2]", "[1]", "[1, 1]", "[1]"),  # no row
    ]
    s = read_eros(make_eros(tmp_path / "e", rows, table), progress=False)
    assert s.ids.tolist() == ["1_10", "1_11"]
    reasons = {item["id"]: item["reason"] for item in s.skipped}
    assert "type 7" in reasons["1_12"]
    assert "2 times, 2 magnitudes and 1 errors" in reasons["1_13"]
    assert "no row" in reasons["1_99"]
    assert "no light curve" in reasons["1_14"]


def test_unlabelled_table_reads_without_labels(tmp_path):
    table = TABLE.replace(",type", ",kind")
    s = read_eros(make_eros(tmp_path / "e", ROWS, table), progress=False)
    assert s.labels.tolist() == [None, None]


# --------------------------------------------------- broken copies of real rows (tmp only)
@pytest.fixture
def first_rows(shared_data, tmp_path) -> Path:
    source = shared_path(shared_data, "eros1_lmc")
    folder = tmp_path / "eros_head"
    folder.mkdir()
    lines = (source / "train.csv").read_text().splitlines(keepends=True)[:21]
    (folder / "train.csv").write_text("".join(lines))
    with gzip.open(source / "train_varlength_features.csv.gz", "rt") as fh:
        features = [next(fh) for _ in range(21)]
    oid = features[5].split(",", 1)[0]
    features[5] = features[5].replace('"[', '"[12.5, oops, ', 1)
    with gzip.open(folder / "train_varlength_features.csv.gz", "wt") as fh:
        fh.write("".join(features))
    (folder / "bad_id.txt").write_text(oid)
    return folder


@pytest.mark.realdata
def test_real_rows_with_malformed_cell(first_rows):
    bad = (first_rows / "bad_id.txt").read_text()
    s = read_eros(first_rows, progress=False)
    assert len(s) == 19
    assert [item["id"] for item in s.skipped] == [bad]
    assert "'time_points_b': 'oops' is not a number" in s.skipped[0]["reason"]
    with pytest.raises(DataError, match="oops") as info:
        read_eros(first_rows, strict=True, progress=False)
    assert info.value.object_id == bad


@pytest.mark.realdata
def test_real_rows_with_missing_column(first_rows):
    path = first_rows / "train_varlength_features.csv.gz"
    pd.read_csv(path, index_col=0).drop(columns="light_points_r").to_csv(path)
    with pytest.raises(DataError, match=r"missing column\(s\) \['light_points_r'\]") as info:
        read_eros(first_rows, progress=False)
    assert info.value.source.endswith("train_varlength_features.csv.gz")


# ------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def real_set(shared_data):
    return read_eros(shared_path(shared_data, "eros1_lmc"), progress=False)


@pytest.mark.realdata
def test_real_counts_bands_classes(real_set):
    s = real_set
    assert len(s) == 2912 and not s.skipped
    assert s.bands == ("B", "R")
    per_band = s.epochs_per_band()
    assert ((per_band["B"] > 0) & (per_band["R"] > 0)).sum() == 2912
    assert s.class_counts().to_dict() == {
        "rr_lyrae": 1777,
        "cepheid": 604,
        "binary": 339,
        "mira": 192,
    }
    assert set(s.objects["type"]) == set(EROS_CLASSES)


@pytest.mark.realdata
def test_real_period_is_divided(real_set, shared_data):
    table = pd.read_csv(shared_path(shared_data, "eros1_lmc", "train.csv"), index_col=0)
    obj = real_set.objects.set_index("id")
    raw = table.loc["135_9613"]
    assert obj.loc["135_9613", "period"] == raw["period"] / raw["div_period"]
    assert obj.loc["135_9613", "period_auto"] == raw["period"]
    expected = (table["period"] / table["div_period"]).reindex(obj.index)
    assert np.allclose(obj["period"], expected)
    lc = real_set["135_9613"]
    assert lc.select_band("B").time[0] == 290.3 and len(lc.select_band("B")) == 123
