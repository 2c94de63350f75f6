"""Classes (or numbers) for a set's objects from a table that gives them by id.

Catalogues ship their labels beside the light curves: ASAS's ``filename,class``
CSV, Sesar et al.'s ``id type P ...`` table for the SDSS Stripe 82 RR Lyrae. Any
reader's set takes them with :func:`attach_labels` (``skyclass convert --labels``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from skyclass.exceptions import DataError
from skyclass.io.common import is_number, normalise_id
from skyclass.lightcurve import LightCurveSet

__all__ = ["attach_labels", "normalise_id", "read_label_table"]

#: Names of the id column (first match, case-insensitive); else the first column.
ID_NAMES = ("id", "filename", "file", "name", "object_id", "objectid", "source_id", "star")
#: Names of the label column; else the second column.
LABEL_NAMES = ("label", "class", "type", "target", "class_name", "classification")


def read_label_table(path: str | PathLike[str], *, names: Sequence[str] = ()) -> pd.DataFrame:
    """Read a label table: comma-separated or whitespace-separated, with or without a header.

    A header (possibly on a ``#`` line) is recognised by a known id or label
    column name or one of ``names``, by a first line of names above rows that
    start with numbers, or, in a comma-separated file, by a first line without
    numbers; without one, the columns are ``col0``, ``col1``, ...

    Raises
    ------
    DataError
        If the file is missing, empty or not a table.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "table.txt")
    >>> _ = open(path, "w").write("# id type P\\n1000035 ab 0.5581\\n1001412 c 0.3342\\n")
    >>> read_label_table(path).columns.tolist()
    ['id', 'type', 'P']
    """
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise DataError(f"cannot read the label table ({exc})", source=source) from exc
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise DataError("the label table is empty; give one row per object", source=source)
    comma = "," in lines[0]
    split = (lambda s: [t.strip() for t in s.split(",")]) if comma else str.split
    header_line = None
    body = [ln for ln in lines if not ln.lstrip().startswith("#")]
    comments = [ln.lstrip()[1:] for ln in lines if ln.lstrip().startswith("#")]
    first = split(body[0]) if body else []
    known = {n.lower() for n in (*ID_NAMES, *LABEL_NAMES, *names)}
    if first and (
        {t.lower() for t in first} & known
        or (comma and not any(map(is_number, first)))
        or (len(body) > 1 and not any(map(is_number, first)) and is_number(split(body[1])[0]))
    ):
        header_line, body = first, body[1:]
    elif comments and {t.lower() for t in split(comments[-1])} & known:
        header_line = split(comments[-1])
    if not body:
        raise DataError("the label table has a header but no rows", source=source)
    try:
        table = pd.read_csv(
            io.StringIO("\n".join(body)),
            sep="," if comma else r"\s+",
            header=None,
            dtype=str,
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(
            f"cannot parse the label table ({exc}); give one row per object: id, label, ...",
            source=source,
        ) from exc
    if header_line and len(header_line) >= table.shape[1]:
        table.columns = header_line[: table.shape[1]]
    else:
        table.columns = [f"col{i}" for i in range(table.shape[1])]
    return table


def _pick(columns: Sequence[str], given: str | None, names: Sequence[str], default: int) -> str:
    if given is not None:
        return given
    lower = {c.lower(): c for c in columns}
    match = next((lower[n] for n in names if n in lower), None)
    return match if match is not None else columns[min(default, len(columns) - 1)]


def attach_labels(
    lcs: LightCurveSet,
    table: str | PathLike[str] | pd.DataFrame,
    *,
    id_column: str | None = None,
    label_column: str | None = None,
    keep: Sequence[str] | bool = True,
) -> LightCurveSet:
    """The same set with a ``label`` column (classes or numbers) looked up by object id.

    Ids are compared as text, without a file suffix (``star.dat`` matches ``star``).
    A label made only of numbers becomes a float target (regression); otherwise
    classes stay text. Objects the table does not name keep no label.

    Parameters
    ----------
    lcs : LightCurveSet
        The set to label; it is not changed.
    table : path-like or DataFrame
        The label table (see :func:`read_label_table`).
    id_column, label_column : str, optional
        Its id and label columns; found by name (``id``/``filename``/..., and
        ``label``/``class``/``type``/...), else the first and second columns.
    keep : sequence of str or bool
        Further columns of the table to copy (``True``: all of them; a column
        named ``P`` or ``period`` is stored as ``period``).

    Returns
    -------
    LightCurveSet
        With ``meta["labels"]``: the table, its columns and the counts matched,
        unlabelled and unknown (ids in the table but not in the set).

    Raises
    ------
    DataError
        If a named column is missing, the table repeats an id with different
        labels, or no id of the table is in the set (the message shows both kinds).

    Examples
    --------
    >>> from skyclass import LightCurve
    >>> curves = [LightCurve(time=[0, 1], mag=[15, 15.2], err=[.1, .1], band="V", id=i)
    ...           for i in ("a", "b", "c")]
    >>> s = LightCurveSet.from_lightcurves(curves)
    >>> table = pd.DataFrame({"filename": ["a.dat", "b.dat", "z.dat"],
    ...                       "class": ["RRAB", "EB", "X"]})
    >>> labelled = attach_labels(s, table)
    >>> labelled.labels.tolist(), labelled.meta["labels"]["unknown"]
    (['RRAB', 'EB', None], 1)
    """
    source = str(table) if not isinstance(table, pd.DataFrame) else "<table>"
    hints = [c for c in (id_column, label_column) if c is not None]
    frame = table if isinstance(table, pd.DataFrame) else read_label_table(table, names=hints)
    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    if len(columns) < 2 and label_column is None:
        raise DataError(
            f"the label table has one column {columns}; it needs an id and a label column",
            source=source,
        )
    id_col = _pick(columns, id_column, ID_NAMES, 0)
    label_col = _pick([c for c in columns if c != id_col], label_column, LABEL_NAMES, 0)
    for name in (id_col, label_col):
        if name not in columns:
            raise DataError(
                f"no column {name!r} in the label table; its columns are {columns}",
                source=source,
            )
    ids = frame[id_col].map(normalise_id)
    values = frame[label_col]
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().sum() == values.notna().sum() and values.notna().any():
        values = numeric.astype(np.float64)
    else:
        values = values.astype(object).where(values.notna(), None)
    table_ = pd.DataFrame({"id": ids, "label": values.to_numpy()})
    extra = (
        [c for c in columns if c not in (id_col, label_col)] if keep is True else list(keep or [])
    )
    for c in extra:
        name = "period" if c.lower() in ("p", "period") else c
        col = pd.to_numeric(frame[c], errors="coerce")
        table_[name] = col if col.notna().sum() == frame[c].notna().sum() else frame[c]
    conflicting = table_.drop_duplicates(["id", "label"])["id"]
    repeated = conflicting[conflicting.duplicated()].unique().tolist()
    if repeated:
        raise DataError(
            f"ids {repeated[:5]} have several different labels in the label table; "
            "keep one row per object",
            source=source,
        )
    table_ = table_.drop_duplicates("id")
    set_ids = lcs.objects["id"].astype(str).map(normalise_id)
    known = set(set_ids)
    matched = table_["id"].isin(known)
    if not matched.any():
        raise DataError(
            f"no id of the label table (column {id_col!r}, e.g. {table_['id'].iloc[:3].tolist()}) "
            f"is in the set (e.g. {set_ids.iloc[:3].tolist()}); name the id column with "
            "id_column= (CLI: --labels-id COLUMN) or check the table belongs to these files",
            source=source,
        )
    looked_up = table_.set_index("id").reindex(set_ids.to_numpy())
    objects = lcs.objects.drop(columns=[c for c in looked_up.columns if c in lcs.objects])
    objects = pd.concat([objects, looked_up.reset_index(drop=True)], axis=1)
    if not pd.api.types.is_float_dtype(objects["label"].dtype):  # classes: None where unknown
        label = objects["label"].astype(object)
        objects["label"] = label.where(label.notna(), None)
    info = {
        "table": source,
        "id_column": id_col,
        "label_column": label_col,
        "matched": int(looked_up["label"].notna().sum()),
        "unlabelled": int(looked_up["label"].isna().sum()),
        "unknown": int((~matched).sum()),
    }
    return lcs.with_objects(objects, meta={"labels": info})
