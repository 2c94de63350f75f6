"""Generic long tables, the reader registry and the shared reading engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skyclass.exceptions import DataError
from skyclass.io import detect_format, get_reader, list_readers, read
from skyclass.io.common import SetBuilder, resolve_columns, time_shift


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_registry_lists_every_format_and_rejects_unknown_names():
    names = list_readers()
    for name in (
        "skyclass",
        "csv",
        "parquet",
        "ogle",
        "eros",
        "gaia_vari",
        "gaia_epoch",
        "gaia_folded",
        "ztf",
        "asassn",
        "crts",
    ):
        assert name in names, name
    with pytest.raises(DataError, match="choose one of: .*csv"):
        get_reader("nope")


def test_csv_hand_worked_grouping_aliases_and_time_frame(tmp_path):
    path = _write(
        tmp_path,
        "lc.csv",
        "Object_ID,BJD,Magnitude,Mag_Err,Passband\n"
        "s2,2458000.5,15.0,0.1,r\n"
        "s1,2458001.5,14.0,0.1,g\n"
        "s1,2458000.5,14.5,0.1,g\n"
        "s2,2458002.5,15.5,0.2,r\n",
    )
    s = read(path)
    assert s.meta["survey"] == "generic" and s.meta["time_ref"] == "BJD"
    assert s.ids.tolist() == ["s1", "s2"]
    assert s["s1"].time.tolist() == [58000.0, 58001.0]  # sorted, shifted to the MJD zero point
    assert s["s2"].band.tolist() == ["r", "r"]
    assert s.meta["time_shift"] == -2400000.5


def test_one_bad_object_is_skipped_and_listed(tmp_path):
    path = _write(
        tmp_path,
        "mixed.csv",
        "id,mjd,mag,magerr\n"
        "good,1,15.0,0.1\ngood,2,15.1,0.1\ngood,3,oops,0.1\n"
        "nan,1,nan,0.1\nnan,2,nan,0.1\n"
        "neg,1,15.0,-0.1\nneg,2,15.0,0\n"
        "one,1,15.0,0.1\n",
    )
    s = read(path, format="csv")
    assert s.ids.tolist() == ["good"] and len(s["good"]) == 2
    assert {x["id"] for x in s.skipped} == {"nan", "neg", "one"}
    assert all("mixed.csv" in x["source"] for x in s.skipped)
    assert s.meta["dropped_epochs"]["nonfinite"] >= 1
    with pytest.raises(DataError, match=r"mixed.csv \[nan\]"):
        read(path, format="csv", strict=True)


def test_missing_columns_and_empty_files_say_what_to_do(tmp_path):
    path = _write(tmp_path, "nomag.csv", "mjd,flux\n1,2\n")
    with pytest.raises(DataError, match=r"nomag.csv.*no 'mag' column.*columns=\{'mag'"):
        read(path, format="csv")
    assert read(path, format="csv", columns={"mag": "flux"}, min_epochs=1).n_epochs.tolist() == [1]
    with pytest.raises(DataError, match="empty"):
        read(_write(tmp_path, "empty.csv", ""), format="csv")
    with pytest.raises(DataError, match="no rows"):
        read(_write(tmp_path, "header.csv", "mjd,mag\n"), format="csv")
    with pytest.raises(DataError, match="not found"):
        read(tmp_path / "absent.csv")


def test_parquet_long_table_and_auto_detection(tmp_path):
    table = pd.DataFrame(
        {
            "oid": [1, 1, 2, 2],
            "mjd": [1.0, 2.0, 1.0, 2.0],
            "mag": [1.0, 2, 3, 4],
            "magerr": [0.1] * 4,
        }
    )
    path = tmp_path / "long.parquet"
    table.to_parquet(path)
    assert detect_format(path) == "parquet"
    s = read(path)
    canonical = s.to_parquet(tmp_path / "set.parquet")
    assert detect_format(canonical) == "skyclass"
    assert read(canonical).equals(s)


def test_resolve_columns_prefers_explicit_names():
    cols = resolve_columns(["mjd", "hjd", "mag"], ["time", "mag"], given={"time": "hjd"})
    assert cols["time"] == "hjd"
    with pytest.raises(DataError, match="'zz' given for 'time'"):
        resolve_columns(["mjd", "mag"], ["time"], given={"time": "zz"})


@pytest.mark.parametrize(
    ("column", "values", "offset", "expected"),
    [
        ("hjd", [2455000.0], None, ("HJD", -2400000.5)),
        ("hjd", [5000.0], 2450000.0, ("HJD", 49999.5)),
        ("bjd", [1000.0], 2455197.5, ("BJD", 55197.0)),
        ("mjd", [58000.0], None, ("JD", 0.0)),
        ("t", [10.0], None, ("unknown", 0.0)),
    ],
)
def test_time_shift_table(column, values, offset, expected):
    assert time_shift(column, np.array(values), offset=offset) == expected


def test_builder_raises_when_nothing_is_readable():
    b = SetBuilder(survey="x", source="f.csv")
    b.add("a", [0.0], [1.0], [0.1], "g")
    with pytest.raises(DataError, match=r"f.csv.*no readable light curve \(1 skipped; first"):
        b.build()


def test_unknown_reader_options_are_named(tmp_path):
    path = _write(tmp_path, "a.csv", "mjd,mag\n1,2\n2,3\n")
    with pytest.raises(DataError, match="takes no option 'colour'.*min_epochs"):
        read(path, format="csv", colour="blue")
