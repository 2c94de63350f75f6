"""Catalogue-scale prediction: chunked, resumable, in-process or on a Dask cluster.

:func:`predict_catalogue` applies a saved model (a directory written by
:meth:`LightCurveClassifier.save <skyclass.estimator.LightCurveClassifier.save>`)
to every object of one or many Parquet files, one *work unit* at a time: a unit
is a range of at most ``chunk_size`` rows of one input shard, made of whole
Parquet row groups where they fit, so memory stays bounded whatever the size of
a file. Each unit writes its own table (``predict_table``'s columns: ``object_id``,
``predicted``, ``prob_<class>``…, ``error``) under a temporary name and renames
it into place, so an output file is either complete or absent. A killed job
restarted with the same command skips the units whose output is there and
holds the right number of rows: nothing is lost, nothing is written twice.

The output directory holds::

    manifest.json                       model checksum, inputs, chunk_size, units
    predictions/part-<shard>-<chunk>.parquet
    report.json                         the last run's PredictReport
    input/input.parquet                 survey files converted (write_converted_input)
    .lock                               held by the running process (lock_out_dir)

The same per-unit function runs in-process (default), on a
``dask.distributed.LocalCluster`` (``workers=N``: :func:`local_cluster`, one
single-threaded process per worker) or on an existing cluster
(``scheduler="tcp://host:port"``; its workers must see the same paths). Each
process loads the model once.

Inputs are canonical skyclass Parquet files (:meth:`LightCurveSet.to_parquet
<skyclass.lightcurve.LightCurveSet.to_parquet>`), a directory or glob of them,
or an LSDB/HATS catalogue directory (``Norder=*/Dir=*/Npix=*.parquet`` leaves)
holding a nested light-curve column; ``columns`` maps skyclass names to the
catalogue's when they differ.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import hashlib
import json
import os
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from glob import glob
from itertools import pairwise
from os import PathLike
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from skyclass._util import limit_threads, write_json
from skyclass.exceptions import DataError, MissingDependencyError
from skyclass.lightcurve import LC_COLUMN, LightCurveSet
from skyclass.locking import hold_folder
from skyclass.models.io import MODEL_FILES, verify_model_files

__all__ = [
    "CONNECT_TIMEOUT",
    "WORKER_CONFIG",
    "PredictReport",
    "check_model",
    "chunk_ranges",
    "local_cluster",
    "lock_out_dir",
    "needs_conversion",
    "predict_catalogue",
    "read_predictions",
    "write_converted_input",
]

#: Seconds to wait for a Dask scheduler given by address before giving up.
CONNECT_TIMEOUT = 10.0
MANIFEST = "manifest.json"
REPORT = "report.json"
PREDICTIONS = "predictions"
CONVERTED_INPUT = "input/input.parquet"
LOCK = ".lock"
_MANIFEST_VERSION = 1
_NESTED_FIELDS = ("time", "mag", "err", "band")
_HATS_MARKERS = ("hats.properties", "properties", "catalog_info.json")


# ------------------------------------------------------------------ report
@dataclass(frozen=True)
class PredictReport:
    """What one :func:`predict_catalogue` call did.

    Attributes
    ----------
    out_dir : str
        The output directory.
    mode : str
        ``"in-process"``, ``"LocalCluster(N workers)"`` or the scheduler address.
    n_units : int
        Work units planned (shards × chunks, readable shards only).
    n_units_done, n_units_skipped, n_units_failed : int
        Units predicted now, found already done (valid output), and failed.
    n_objects : int
        Objects predicted by this call.
    n_objects_total : int
        Objects in all valid outputs after this call (done now or before).
    n_object_errors : int
        Objects predicted now that could not be represented (NaN, reason in ``error``).
    failed : tuple of dict
        ``{"shard": path, "chunk": int or None, "reason": str}`` per failure
        (``chunk`` None: the whole shard could not be opened).
    wall_time : float
        Seconds of the whole call, cluster start included.
    """

    out_dir: str
    mode: str
    n_units: int
    n_units_done: int
    n_units_skipped: int
    n_units_failed: int
    n_objects: int
    n_objects_total: int
    n_object_errors: int
    failed: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    wall_time: float = 0.0

    @property
    def throughput(self) -> float:
        """Objects predicted per second of wall time (this call)."""
        return self.n_objects / self.wall_time if self.wall_time > 0 else 0.0

    @property
    def n_shards_failed(self) -> int:
        """Shards that could not be opened at all (their units were never planned)."""
        return sum(1 for f in self.failed if f["chunk"] is None)

    @property
    def failed_shards(self) -> list[str]:
        """Paths of the shards with at least one failed unit, sorted."""
        return sorted({f["shard"] for f in self.failed})

    def to_dict(self) -> dict[str, Any]:
        """JSON-able fields plus ``throughput``."""
        return {**asdict(self), "failed": list(self.failed), "throughput": self.throughput}

    def summary(self) -> str:
        """A few lines for a person: counts, throughput, failures with their reasons."""
        lines = [
            f"predictions in {self.out_dir} ({self.mode})",
            f"  units: {self.n_units} planned, {self.n_units_done} done now, "
            f"{self.n_units_skipped} already done, {self.n_units_failed} failed; "
            f"{self.n_shards_failed} shards unreadable",
            f"  objects: {self.n_objects:,} predicted now ({self.n_object_errors:,} not "
            f"representable), {self.n_objects_total:,} in all outputs",
            f"  {self.wall_time:.1f} s wall time, {self.throughput:,.1f} objects/s",
        ]
        for fail in self.failed:
            where = (
                fail["shard"] if fail["chunk"] is None else f"{fail['shard']} chunk {fail['chunk']}"
            )
            lines.append(f"  FAILED {where}: {fail['reason']}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# ------------------------------------------------------------------ model
def _model_checksum(model_dir: Path) -> str:
    """SHA-256 over the files that decide predictions (all but the card).

    For an ensemble directory (``ensemble.json``, :class:`~skyclass.estimator.
    EnsembleClassifier`), over that file and every member's checksum.
    """
    digest = hashlib.sha256()
    listing = model_dir / "ensemble.json"
    if listing.is_file():
        from skyclass.estimator import EnsembleClassifier

        digest.update(listing.read_bytes())
        for name in EnsembleClassifier.listing(model_dir)["members"]:
            digest.update(_model_checksum(model_dir / name).encode())
        return digest.hexdigest()
    for name in MODEL_FILES:
        if name == "card.json":
            continue
        path = model_dir / name
        if not path.is_file():
            raise FileNotFoundError(
                f"{model_dir} lacks {name}; give a model directory written by "
                "LightCurveClassifier.save (or RUN_DIR/model)"
            )
        with path.open("rb") as fh:
            digest.update(name.encode() + b"\0" + hashlib.file_digest(fh, "sha256").digest())
    return digest.hexdigest()


def check_model(model_dir: str | PathLike[str]) -> tuple[Path, str]:
    """Check a saved model directory as :func:`predict_catalogue` will use it.

    Every file is compared with the SHA-256 its card recorded and the estimator
    is loaded once (kept for the run), so a damaged model is refused before any
    input is read or output written.

    Parameters
    ----------
    model_dir : path
        A saved estimator (``LightCurveClassifier.save``, ``RUN_DIR/model``) or an
        ensemble directory.

    Returns
    -------
    directory : Path
        ``model_dir``, resolved.
    checksum : str
        SHA-256 over the files that decide predictions (recorded in the manifest).

    Raises
    ------
    FileNotFoundError
        No such directory, or a file of it missing.
    DataError
        A file altered since saving, or not what its name says.
    """
    model = Path(model_dir).resolve()
    if not model.is_dir():
        raise FileNotFoundError(f"no model directory at {model}; save one with est.save(path)")
    checksum = _model_checksum(model)
    _load_estimator(str(model), checksum)
    return model, checksum


@functools.lru_cache(maxsize=4)
def _load_estimator(model_dir: str, checksum: str):
    """The estimator saved in ``model_dir``, loaded once per process and checksum."""
    from skyclass.baselines import FeatureForest, FeatureForestRegressor
    from skyclass.estimator import LightCurveClassifier, LightCurveRegressor

    path = Path(model_dir)
    found = _model_checksum(path)
    if found != checksum:
        raise DataError(
            f"the model changed since this prediction run started (checksum {found[:12]} "
            f"instead of {checksum[:12]}); do not rewrite a model directory in use",
            source=model_dir,
        )
    if (path / "ensemble.json").is_file():
        from skyclass.estimator import EnsembleClassifier

        ensemble = EnsembleClassifier.load(path)
        ensemble.progress = False
        return ensemble
    verify_model_files(path)  # before preprocessing.json is parsed
    try:
        prep = json.loads((path / "preprocessing.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"preprocessing.json is not JSON ({exc})", source=model_dir) from None
    estimators = (LightCurveClassifier, LightCurveRegressor, FeatureForest, FeatureForestRegressor)
    kinds = {cls.__name__: cls for cls in estimators}
    kind = prep.get("estimator") if isinstance(prep, dict) else None
    if kind not in kinds:  # saved before the estimator was recorded: a network
        regression = isinstance(prep, dict) and prep.get("task") == "regression"
        kind = "LightCurveRegressor" if regression else "LightCurveClassifier"
    est = kinds[kind].load(path)
    est.progress = False
    return est


def _prediction_table(est: Any, lcs: LightCurveSet) -> pd.DataFrame:
    """``predict_table`` for a classifier; ``object_id, predicted, error`` for a regressor."""
    table = est.predict_table(lcs)
    if est.task == "regression" and "prob_value" in table.columns:  # a network's table
        table = table.drop(columns="predicted").rename(columns={"prob_value": "predicted"})
    return table


# ------------------------------------------------------------------ inputs
def _natural_key(path: str) -> list[Any]:
    """Sort ``Npix=2`` before ``Npix=10``."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path)]


def _is_hats(directory: Path) -> bool:
    if any((directory / m).is_file() for m in _HATS_MARKERS):
        return True
    return any(directory.glob("Norder=*")) or any(directory.glob("dataset/Norder=*"))


def _require_lsdb() -> None:
    try:
        import lsdb  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            "lsdb", purpose="predicting on an LSDB/HATS catalogue"
        ) from None


def _hats_leaves(directory: Path) -> list[Path]:
    _require_lsdb()
    leaves = [
        p
        for p in directory.rglob("*.parquet")
        if any(part.startswith("Norder=") for part in p.relative_to(directory).parts)
    ]
    if not leaves:
        raise DataError(
            "a HATS catalogue directory without Norder=*/Dir=*/Npix=*.parquet leaves",
            source=str(directory),
        )
    return leaves


def _resolve_inputs(
    inputs: str | PathLike[str] | Sequence[str | PathLike[str]], out_dir: Path
) -> tuple[list[Path], Path]:
    """Input shard files (absolute, natural order) and the folder their names are taken from."""
    if isinstance(inputs, str | PathLike):
        items = [inputs]
    else:
        items = list(inputs)
    named: list[Path] = []  # files given by name: used even inside out_dir
    scanned: list[Path] = []  # files found in a folder or by a pattern
    for item in items:
        text = os.fspath(item)
        path = Path(text)
        if any(c in text for c in "*?["):
            matches = [Path(p) for p in glob(text, recursive=True) if Path(p).is_file()]
            if not matches:
                raise DataError("no file matches this pattern", source=text)
            scanned += matches
        elif path.is_dir():
            if _is_hats(path):
                scanned += _hats_leaves(path)
            else:
                shards = [p for p in path.glob("*.parquet") if p.is_file()]
                if not shards:
                    raise DataError(
                        "no *.parquet file in this directory; give canonical skyclass Parquet "
                        "shards (LightCurveSet.to_parquet) or a HATS catalogue",
                        source=text,
                    )
                scanned += shards
        elif path.is_file():
            named.append(path)
        else:
            raise DataError("input not found", source=text)
    out = out_dir.resolve()
    scanned = [p for p in scanned if out not in p.resolve().parents]
    shards = sorted({p.resolve() for p in named + scanned}, key=lambda p: _natural_key(str(p)))
    if not shards:
        raise DataError(
            "no input shard left: the folder or pattern finds only files inside out_dir; "
            "choose an out_dir outside the input",
            source=str(inputs),
        )
    root = Path(os.path.commonpath([p.parent for p in shards]))
    return shards, root


def needs_conversion(source: str | PathLike[str], *, format: str = "auto") -> bool:
    """Whether ``source`` must be read by a survey reader before :func:`predict_catalogue`.

    Canonical skyclass Parquet (a file, a folder of shards, a glob, a HATS
    catalogue) is predicted as it is. Survey files, data-set names, a survey
    reader named by ``format``, and Parquet files without a ``lightcurve``
    column (such as Gaia DR3 ``lightcurves.parquet``) need converting.

    Parameters
    ----------
    source : str or path
        The input as given on the command line.
    format : str
        ``"auto"``, ``"skyclass"`` or the name of a survey reader.

    Examples
    --------
    >>> needs_conversion("macho"), needs_conversion("stars.parquet", format="gaia_vari")
    (True, True)
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    def canonical(path: Path) -> bool:
        try:
            return LC_COLUMN in pq.read_schema(path).names
        except (OSError, pa.ArrowException):
            return True  # predicted as a shard, so that it is reported as unreadable

    if format not in ("auto", "skyclass"):
        return True
    text = os.fspath(source)
    path = Path(text)
    if any(c in text for c in "*?["):
        return not glob(text, recursive=True)
    if path.is_dir():
        return not (_is_hats(path) or any(canonical(p) for p in path.glob("*.parquet")))
    if path.is_file() and path.suffix == ".parquet":
        return format == "auto" and not canonical(path)
    return True


def write_converted_input(lcs: LightCurveSet, out_dir: str | PathLike[str]) -> Path:
    """Write a set read from survey files as ``out_dir/input/input.parquet``, to predict it.

    A file given by name is predicted even inside ``out_dir`` (only folders and
    patterns skip what lies there). An identical file already in place is left
    untouched, so rerunning the same conversion resumes the predictions made
    from it instead of starting them again.

    Parameters
    ----------
    lcs : LightCurveSet
        The converted set.
    out_dir : path
        The ``out_dir`` of :func:`predict_catalogue`.

    Returns
    -------
    Path
        The canonical Parquet file to pass as ``inputs``.

    Examples
    --------
    >>> import os, tempfile
    >>> from skyclass import LightCurve
    >>> lc = LightCurve(time=[0, 1], mag=[1, 2], err=[.1, .1], band="g", id="x")
    >>> out = tempfile.mkdtemp()
    >>> path = write_converted_input(LightCurveSet.from_lightcurves([lc]), out)
    >>> stamp = path.stat().st_mtime_ns
    >>> write_converted_input(LightCurveSet.from_lightcurves([lc]), out).stat().st_mtime_ns == stamp
    True
    """
    import filecmp

    final = Path(out_dir) / CONVERTED_INPUT
    fresh = lcs.to_parquet(final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp"))
    if final.is_file() and filecmp.cmp(fresh, final, shallow=False):
        fresh.unlink()
    else:
        os.replace(fresh, final)
    return final


def _shard_stem(path: Path, root: Path) -> str:
    """A file-name-safe, unique name of a shard: its path below ``root`` without suffix."""
    rel = path.relative_to(root).with_suffix("")
    return "-".join(rel.parts)


def chunk_ranges(row_groups: Sequence[int], chunk_size: int) -> list[tuple[int, int]]:
    """Row ranges of at most ``chunk_size`` rows, whole row groups where they fit.

    How :func:`predict_catalogue` cuts a Parquet shard into work units: row groups
    are joined while they fit in a chunk; a row group larger than a chunk is cut
    into even slices.

    Parameters
    ----------
    row_groups : sequence of int
        Rows of each row group of the file, in order.
    chunk_size : int
        Most rows per range.

    Returns
    -------
    list of (start, stop)
        Half-open row ranges covering every row once, in order.

    Examples
    --------
    >>> chunk_ranges([4, 4, 4, 10], 8)
    [(0, 8), (8, 12), (12, 17), (17, 22)]
    """
    ranges: list[tuple[int, int]] = []
    start = row = 0
    for n in row_groups:
        if row - start + n > chunk_size and row > start:  # close the open range
            ranges.append((start, row))
            start = row
        if n > chunk_size:  # a row group larger than a chunk: even slices of it
            pieces = -(-n // chunk_size)
            cuts = row + np.linspace(0, n, pieces + 1).round().astype(int)
            ranges += [(int(a), int(b)) for a, b in pairwise(cuts)]
            start = row + n
        row += n
    if row > start:
        ranges.append((start, row))
    return ranges


def _plan_shard(path: Path, stem: str, chunk_size: int, columns: Mapping[str, str] | None):
    """(shard record, units) of one readable shard; raises on an unusable one."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path, pre_buffer=False)
    schema = parquet.schema_arrow
    nested = (columns or {}).get("lightcurve", LC_COLUMN)
    id_name = (columns or {}).get("id", "id")
    missing = [c for c in (nested, id_name) if c not in schema.names]
    if missing:
        raise DataError(
            f"no column {missing} (columns: {schema.names[:12]}); give canonical skyclass "
            "Parquet (LightCurveSet.to_parquet) or map the names with columns={'id': ..., "
            "'lightcurve': ...}"
        )
    meta = parquet.metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    stat = path.stat()
    record = {
        "path": str(path),
        "stem": stem,
        "n_rows": int(meta.num_rows),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
    }
    units = [
        {
            "shard": str(path),
            "chunk": k,
            "row_start": a,
            "row_stop": b,
            "n_rows": b - a,
            "output": f"{PREDICTIONS}/part-{stem}-{k:05d}.parquet",
        }
        for k, (a, b) in enumerate(chunk_ranges(sizes, chunk_size))
    ]
    return record, units


# ------------------------------------------------------------------ reading a chunk
def _struct_of_lists(array: Any, names: Mapping[str, str], source: str):
    """The nested column as a struct of equal-length lists named time, mag, err, band.

    Accepts that layout (nested-pandas, skyclass) or a list of structs, with the
    catalogue's field names mapped by ``names`` (skyclass name -> catalogue name).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = array.type
    if pa.types.is_struct(kind):
        children = dict(zip([f.name for f in kind], array.flatten(), strict=True))
        lists = children
    elif (pa.types.is_list(kind) or pa.types.is_large_list(kind)) and pa.types.is_struct(
        kind.value_type
    ):
        offsets = pc.subtract(array.offsets, array.offsets[0])
        values = array.flatten()
        builder = pa.ListArray if pa.types.is_list(kind) else pa.LargeListArray
        lists = {
            f.name: builder.from_arrays(offsets, child)
            for f, child in zip(kind.value_type, values.flatten(), strict=True)
        }
    else:
        raise DataError(
            f"the light-curve column is {kind}, not a struct of lists or a list of structs",
            source=source,
        )
    wanted = {k: names.get(k, k) for k in _NESTED_FIELDS}
    missing = [f"{k} (as {v!r})" for k, v in wanted.items() if v not in lists]
    if missing:
        raise DataError(
            f"the light-curve column lacks {missing}; it has {sorted(lists)}: map the names "
            "with columns={'time': ..., 'mag': ..., 'err': ..., 'band': ...}",
            source=source,
        )
    if all(k == v for k, v in wanted.items()) and pa.types.is_struct(kind):
        return array
    return pa.StructArray.from_arrays([lists[v] for v in wanted.values()], names=list(wanted))


def _read_chunk(
    path: str, row_start: int, row_stop: int, columns: Mapping[str, str] | None
) -> tuple[LightCurveSet | None, np.ndarray, np.ndarray]:
    """The chunk's objects with epochs as a set, every object id, and which have no epoch."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    source = f"{path} rows {row_start}-{row_stop}"
    parquet = pq.ParquetFile(path, pre_buffer=False)
    meta = parquet.metadata
    groups, first, row = [], None, 0
    for i in range(meta.num_row_groups):
        n = meta.row_group(i).num_rows
        if row < row_stop and row + n > row_start and n:
            groups.append(i)
            first = row if first is None else first
        row += n
    table = parquet.read_row_groups(groups).slice(row_start - (first or 0), row_stop - row_start)
    mapping = dict(columns or {})
    nested_names = {k: mapping.pop(k) for k in _NESTED_FIELDS if k in mapping}
    renames = {v: k for k, v in mapping.items()}  # catalogue name -> skyclass name
    # renaming drops the schema's metadata, which holds the set's own (e.g. that its
    # curves are already folded): the chunk keeps it, to read as the whole file does
    table = table.rename_columns([renames.get(n, n) for n in table.column_names])
    table = table.replace_schema_metadata(parquet.schema_arrow.metadata)
    position = table.schema.get_field_index(LC_COLUMN)
    nested = _struct_of_lists(table.column(position).combine_chunks(), nested_names, source)
    table = table.set_column(position, LC_COLUMN, nested)
    ids = table.column("id").to_numpy(zero_copy_only=False).astype(str)
    lengths = pc.fill_null(pc.list_value_length(nested.field("time")), 0)
    empty = lengths.to_numpy(zero_copy_only=False) == 0
    if empty.all():
        return None, ids, empty
    if empty.any():  # a set holds no empty curve; these rows get an error instead
        table = table.filter(pa.array(~empty))
    return LightCurveSet.from_arrow(table, source=source), ids, empty


def _unit_table(est: Any, unit: Mapping[str, Any], columns: Mapping[str, str] | None):
    """The prediction table of one unit, one row per input row, in input order.

    A row without epochs, or one the reader refused (lists of different lengths, an
    id repeated with other data), gets a row whose ``error`` says why.
    """
    lcs, ids, empty = _read_chunk(unit["shard"], unit["row_start"], unit["row_stop"], columns)
    if lcs is not None and len(lcs) == len(ids):
        return _prediction_table(est, lcs)
    reasons = dict.fromkeys(ids[empty].tolist(), "no epochs")
    if lcs is not None:
        made = _prediction_table(est, lcs).set_index("object_id")
        blank = {c: np.nan if made[c].dtype.kind == "f" else None for c in made.columns}
        reasons.update({str(s["id"]): str(s["reason"]) for s in lcs.skipped})
    else:  # other columns (e.g. an unknown-class flag) are filled in when the parts are read
        made = None
        probs = [] if est.task == "regression" else [f"prob_{c}" for c in est.classes_]
        blank = {"predicted": np.nan if est.task == "regression" else None}
        blank.update(dict.fromkeys(probs, np.nan))
    have = set() if made is None else set(made.index)
    missing = [i for i in dict.fromkeys(ids.tolist()) if i not in have]
    none = pd.DataFrame(blank, index=pd.Index(missing, name="object_id"))
    none["error"] = [reasons.get(i, "not read") for i in missing]
    return pd.concat([made, none]).loc[ids].reset_index()


# ------------------------------------------------------------------ one unit
def _write_atomic(table: pd.DataFrame, final: Path) -> None:
    """Write ``table`` under a temporary name beside ``final``, then rename it into place.

    Text columns are stored as Arrow ``string`` (also when a chunk has no prediction
    at all, i.e. a column of nulls), so that the parts of a run read back as one table.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = pa.Table.from_pandas(table, preserve_index=False)
    text = {"object_id", "predicted", "error"}
    fields = [
        f.with_type(pa.string())
        if pa.types.is_large_string(f.type) or (pa.types.is_null(f.type) and f.name in text)
        else f
        for f in data.schema
    ]
    data = data.cast(pa.schema(fields, metadata=data.schema.metadata))
    tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        pq.write_table(data, tmp)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def _predict_unit(
    unit: Mapping[str, Any],
    *,
    model_dir: str,
    checksum: str,
    out_dir: str,
    columns: Mapping[str, str] | None,
    threads: int | None,
) -> dict[str, Any]:
    """Predict one unit and write its output; the same function in every execution mode.

    Returns ``{"status": "done", "n_objects", "n_errors"}`` or ``{"status":
    "failed", "reason"}`` for a chunk that cannot be read or represented.
    """
    import pyarrow as pa

    est = _load_estimator(model_dir, checksum)
    try:
        with limit_threads(threads):
            table = _unit_table(est, unit, columns)
    except (DataError, OSError, pa.ArrowException) as exc:
        return {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"}
    if len(table) != unit["n_rows"]:
        return {
            "status": "failed",
            "reason": f"{len(table)} predictions for {unit['n_rows']} rows",
        }
    _write_atomic(table, Path(out_dir) / unit["output"])
    n_errors = int((table["error"].fillna("") != "").sum())
    return {"status": "done", "n_objects": len(table), "n_errors": n_errors}


# ------------------------------------------------------------------ manifest
def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(
            f"not valid JSON ({exc}); pass overwrite=True to start the predictions afresh",
            source=str(path),
        ) from None


def _output_ok(path: Path, n_rows: int) -> bool:
    """Whether a unit's output is complete: a readable Parquet file with its rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.is_file():
        return False
    try:
        return pq.read_metadata(path).num_rows == n_rows
    except (OSError, pa.ArrowException):
        return False


def _clear(pred_dir: Path, out: Path) -> None:
    for path in list(pred_dir.glob("part-*.parquet")) + list(pred_dir.glob(".part-*.tmp")):
        path.unlink()
    for name in (MANIFEST, REPORT):
        (out / name).unlink(missing_ok=True)


def _check_same_run(old: Mapping[str, Any], new: Mapping[str, Any], manifest: Path) -> None:
    """Refuse to mix predictions of another model, chunking, column mapping or input list."""
    differ = []
    if old.get("model", {}).get("checksum") != new["model"]["checksum"]:
        differ.append(
            f"model (checksum {str(old.get('model', {}).get('checksum'))[:12]} of "
            f"{old.get('model', {}).get('directory')}, now {new['model']['checksum'][:12]} of "
            f"{new['model']['directory']})"
        )
    if old.get("chunk_size") != new["chunk_size"]:
        differ.append(f"chunk_size ({old.get('chunk_size')}, now {new['chunk_size']})")
    if old.get("columns") != new["columns"]:
        differ.append(f"columns ({old.get('columns')}, now {new['columns']})")
    if old.get("inputs") != new["inputs"]:
        gone = sorted(set(old.get("inputs", [])) - set(new["inputs"]))[:3]
        added = sorted(set(new["inputs"]) - set(old.get("inputs", [])))[:3]
        differ.append(f"input shards (no longer given: {gone}; new: {added})")
    if differ:
        raise DataError(
            "this output directory holds predictions of another run; it differs in "
            + "; ".join(differ)
            + ". Pass overwrite=True to discard them, or choose another out_dir",
            source=str(manifest),
        )


# ------------------------------------------------------------------ lock
def lock_out_dir(out_dir: str | PathLike[str]) -> contextlib.AbstractContextManager[Path]:
    """Hold ``out_dir`` for one prediction run: another run on it is refused at once.

    The lock file is ``out_dir/.lock``, naming its holder (see
    :func:`skyclass.locking.hold_folder`); a killed holder's lock is taken over.
    The command line holds it while it converts the input, then
    :func:`predict_catalogue` takes it again in the same thread.

    Raises
    ------
    DataError
        ``out_dir`` is in use by another run (naming its PID), is a file, or
        cannot be written.
    """
    return hold_folder(out_dir, name=LOCK, what="prediction run")


# ------------------------------------------------------------------ execution
def _probe(address: str) -> None:
    """Fail at once, naming the address, when nothing listens at a tcp:// scheduler address."""
    parts = urlsplit(address)
    if parts.scheme != "tcp" or parts.hostname is None or parts.port is None:
        return
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise ConnectionError(
            f"no Dask scheduler reachable at {address} ({exc}); start one (`dask scheduler`) "
            "or check the address"
        ) from None


def _client(scheduler: str | None, workers: int | None):
    """(client, cluster or None) for a Dask run."""
    try:
        from distributed import Client
    except ImportError:
        raise MissingDependencyError(
            "dask[distributed]", purpose="predicting on a Dask cluster"
        ) from None
    if scheduler is not None:
        _probe(scheduler)
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(
                f"could not connect to the Dask scheduler at {scheduler} within "
                f"{CONNECT_TIMEOUT:g} s ({exc}); check the address and that it is running"
            ) from None
        return client, None
    cluster = local_cluster(workers)
    return Client(cluster), cluster


#: Dask settings of the cluster that :func:`local_cluster` starts. Dask gives its
#: worker processes glibc's ``MALLOC_TRIM_THRESHOLD_=65536``
#: (``distributed.nanny.pre-spawn-environ``) to hand freed memory back to the
#: system; setting it also stops glibc from raising its mmap threshold as it does by
#: default, so every array above 128 kB becomes a fresh mapping whose pages fault on
#: first touch. The period search makes such arrays for every curve, and a
#: worker spent a third of its time in the kernel (the catalogue guide's
#: "Throughput" has the command that measures it). Thresholds of 32 MB (glibc's
#: own ceiling for the mmap one) and 64 MB (for the trim) give a plain process's
#: speed back. Dask's statistical profiler, which samples the task's stack every
#: 10 ms, is off. Give the workers of your own cluster the same settings, in
#: Dask's configuration where the workers start (variables set in the shell are
#: overwritten by Dask's own ``pre-spawn-environ``); the catalogue guide shows how.
WORKER_CONFIG: dict[str, Any] = {
    "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": str(32 << 20),
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": str(64 << 20),
    "distributed.worker.profile.enabled": False,
}


def local_cluster(workers: int) -> Any:
    """A ``distributed.LocalCluster`` of ``workers`` single-threaded processes for prediction.

    The cluster has :data:`WORKER_CONFIG` and no dashboard. It is the cluster that
    :func:`predict_catalogue` starts for ``workers=N``; start one yourself to keep
    the workers, with the model loaded, across several calls (pass
    ``scheduler=cluster.scheduler_address``). Workers added later
    (``cluster.scale``) start with the configuration in force then, Dask's defaults
    unless it is set as the catalogue guide shows.

    Examples
    --------
    >>> from skyclass.predict import local_cluster
    >>> with local_cluster(1) as cluster:  # doctest: +SKIP
    ...     predict_catalogue(model, inputs, out, scheduler=cluster.scheduler_address)
    """
    try:
        import dask
        from distributed import LocalCluster
    except ImportError:
        raise MissingDependencyError(
            "dask[distributed]", purpose="predicting on a Dask cluster"
        ) from None
    with dask.config.set(WORKER_CONFIG):
        return LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )


def _run_local(units, call: Callable[..., dict[str, Any]]) -> Iterable[tuple[dict, dict]]:
    for unit in units:
        yield unit, call(unit)


def _run_dask(units, call: Callable[..., dict[str, Any]], client) -> Iterable[tuple[dict, dict]]:
    from distributed import as_completed

    futures = {client.submit(call, unit, pure=False): unit for unit in units}
    try:
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        client.cancel(list(futures))


def predict_catalogue(
    model_dir: str | PathLike[str],
    inputs: str | PathLike[str] | Sequence[str | PathLike[str]],
    out_dir: str | PathLike[str],
    *,
    chunk_size: int = 50_000,
    columns: Mapping[str, str] | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool = True,
    overwrite: bool = False,
    on_unit_done: Callable[[Mapping[str, Any], Mapping[str, Any]], None] | None = None,
) -> PredictReport:
    """Predict every object of a catalogue, chunk by chunk, resumably.

    Parameters
    ----------
    model_dir : path
        A saved estimator (``LightCurveClassifier.save`` / ``RUN_DIR/model``);
        its files are checked against the checksums of its card.
    inputs : path, glob or sequence of them
        A canonical skyclass Parquet file, a directory of them (``*.parquet``, not
        recursive), a glob (``"shards/**/*.parquet"``), or an LSDB/HATS catalogue
        directory (needs ``lsdb`` installed; its ``Norder=*/…/Npix=*.parquet``
        leaves are read).
    out_dir : path
        Where ``manifest.json``, ``predictions/part-*.parquet`` and
        ``report.json`` go. Rerunning the same call resumes: units whose output
        is complete are skipped.
    chunk_size : int
        Most objects per work unit (and in memory per worker at once).
    columns : mapping, optional
        skyclass name -> input column name where they differ: top-level ``id``,
        ``lightcurve`` (the nested column) and object columns such as ``period``;
        fields of the nested column ``time``, ``mag``, ``err``, ``band``. E.g.
        ``{"id": "objectid", "lightcurve": "lc", "time": "mjd", "err": "magerr"}``.
    scheduler : str, optional
        Address of a running Dask scheduler (``"tcp://host:port"``); its workers
        must see ``model_dir``, the inputs and ``out_dir`` at the same paths, and
        run fastest with :data:`WORKER_CONFIG`.
        Unreachable: ``ConnectionError`` within :data:`CONNECT_TIMEOUT` seconds.
    workers : int, optional
        Start a ``dask.distributed.LocalCluster`` of this many single-threaded
        worker processes (:func:`local_cluster`; closed at the end). Its processes are spawned, so a
        script that asks for them must call this under ``if __name__ ==
        "__main__":``. Neither given: run in this process.
    progress : bool
        A progress bar over objects.
    overwrite : bool
        Discard the predictions already in ``out_dir``. Without it, a rerun with
        another model, ``chunk_size``, ``columns`` or list of input shards is refused.
    on_unit_done : callable, optional
        Called in this process as each unit ends (in the order they end), with the
        unit (its ``shard``, ``chunk``, ``row_start``, ``row_stop``, ``n_rows``,
        ``output``) and its result (``status`` "done" with ``n_objects`` and
        ``n_errors``, or "failed" with ``reason``): e.g. to report to a job
        monitor. Units skipped as already done are not reported.

    Returns
    -------
    PredictReport
        Counts, failures with their shard paths and reasons, throughput; also
        written to ``out_dir/report.json``.

    Raises
    ------
    DataError
        Bad inputs as a whole (none found), a model file altered since saving,
        an ``out_dir`` holding another run's predictions or in use by a running
        one (see :func:`lock_out_dir`). A shard that cannot be read is not
        raised: it is skipped and listed in the report.
    ConnectionError
        The scheduler address does not answer.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from skyclass import LightCurve, LightCurveSet
    >>> from skyclass.estimator import LightCurveClassifier
    >>> rng = np.random.default_rng(0)
    >>> curves = [LightCurve(time=np.arange(20.0), mag=15 + (i % 2) * rng.normal(0, 1, 20),
    ...                      err=np.full(20, .05), band="g", id=f"s{i}") for i in range(30)]
    >>> s = LightCurveSet.from_lightcurves(curves, labels=["flat", "noisy"] * 15)
    >>> clf = LightCurveClassifier(model="mlp_features", representations={"features": {
    ...     "features": ["amplitude", "n_epochs"], "amplitude": "percentile"}},
    ...     train={"max_epochs": 1}, validation_fraction=0, period="column", progress=False)
    >>> s = s.with_objects(s.objects.assign(period=1.0))
    >>> tmp = Path(tempfile.mkdtemp())
    >>> model = clf.fit(s).save(tmp / "model")
    >>> shard = s.to_parquet(tmp / "shard.parquet")
    >>> done = []
    >>> report = predict_catalogue(model, shard, tmp / "out", chunk_size=8, progress=False,
    ...                            on_unit_done=lambda unit, result: done.append(unit["n_rows"]))
    >>> report.n_units_done, report.n_objects, done
    (4, 30, [8, 7, 7, 8])
    >>> predict_catalogue(model, shard, tmp / "out", chunk_size=8, progress=False).n_units_skipped
    4
    >>> read_predictions(tmp / "out").columns.tolist()
    ['object_id', 'predicted', 'prob_flat', 'prob_noisy', 'error']
    """
    import pyarrow as pa
    from tqdm.auto import tqdm

    started = time.perf_counter()
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive number of objects, got {chunk_size}")
    if scheduler is not None and workers is not None:
        raise ValueError(
            "give scheduler= (an existing cluster) or workers= (a local one), not both"
        )
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    model, checksum = check_model(model_dir)  # before any work
    out = Path(out_dir).resolve()
    shards, root = _resolve_inputs(inputs, out)
    columns = None if columns is None else {str(k): str(v) for k, v in columns.items()}
    with lock_out_dir(out):  # held until the report is written
        records, units, failed = [], [], []
        for path in shards:
            try:
                record, shard_units = _plan_shard(
                    path, _shard_stem(path, root), chunk_size, columns
                )
            except (DataError, OSError, pa.ArrowException) as exc:
                reason = (
                    exc.reason if isinstance(exc, DataError) else f"{type(exc).__name__}: {exc}"
                )
                failed.append({"shard": str(path), "chunk": None, "reason": reason})
                continue
            records.append(record)
            units += shard_units
        manifest = {
            "format_version": _MANIFEST_VERSION,
            "model": {"directory": str(model), "checksum": checksum},
            "chunk_size": int(chunk_size),
            "columns": columns,
            "inputs": [str(p) for p in shards],
            "shards": records,
            "unreadable_shards": [{"path": f["shard"], "reason": f["reason"]} for f in failed],
            "units": units,
            "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }

        pred_dir = out / PREDICTIONS
        manifest_path = out / MANIFEST
        if overwrite:
            if pred_dir.is_dir():
                _clear(pred_dir, out)
        elif manifest_path.is_file():
            old = _read_json(manifest_path)
            _check_same_run(old, manifest, manifest_path)
            before = {r["path"]: (r["size"], r["mtime_ns"]) for r in old.get("shards", [])}
            changed = {
                r["path"] for r in records if before.get(r["path"]) != (r["size"], r["mtime_ns"])
            }
            for unit in old.get("units", []):  # outputs of a shard rewritten since: stale
                if unit["shard"] in changed:
                    (out / unit["output"]).unlink(missing_ok=True)
        elif pred_dir.is_dir() and any(pred_dir.glob("part-*.parquet")):
            raise DataError(
                f"{pred_dir} holds predictions but no {MANIFEST} says how they were made; "
                "pass overwrite=True to discard them, or choose another out_dir",
                source=str(out),
            )
        pred_dir.mkdir(parents=True, exist_ok=True)
        for tmp in pred_dir.glob(".part-*.tmp"):  # left by a killed run
            tmp.unlink()
        write_json(manifest_path, manifest, indent=1)

        pending = [u for u in units if not _output_ok(out / u["output"], u["n_rows"])]
        n_skipped = len(units) - len(pending)
        total_before = sum(u["n_rows"] for u in units) - sum(u["n_rows"] for u in pending)
        n_done = n_objects = n_errors = 0
        threads = None if scheduler is None and workers is None else 1
        call = functools.partial(
            _predict_unit,
            model_dir=str(model),
            checksum=checksum,
            out_dir=str(out),
            columns=columns,
            threads=threads,
        )
        bar = tqdm(
            total=sum(u["n_rows"] for u in pending),
            unit="obj",
            desc="predict",
            disable=not progress or None,
            leave=False,
        )
        client = cluster = None
        try:
            if pending and threads is not None:
                client, cluster = _client(scheduler, workers)
                results = _run_dask(pending, call, client)
            else:
                results = _run_local(pending, call)
            for unit, result in results:
                if result["status"] == "done":
                    n_done += 1
                    n_objects += result["n_objects"]
                    n_errors += result["n_errors"]
                else:
                    failed.append(
                        {"shard": unit["shard"], "chunk": unit["chunk"], "reason": result["reason"]}
                    )
                bar.update(unit["n_rows"])
                if on_unit_done is not None:
                    on_unit_done(unit, result)
        finally:
            bar.close()
            if client is not None:
                client.close()
            if cluster is not None:
                cluster.close()
        report = PredictReport(
            out_dir=str(out),
            mode=scheduler or (f"LocalCluster({workers} workers)" if workers else "in-process"),
            n_units=len(units),
            n_units_done=n_done,
            n_units_skipped=n_skipped,
            n_units_failed=len(pending) - n_done,
            n_objects=n_objects,
            n_objects_total=total_before + n_objects,
            n_object_errors=n_errors,
            failed=tuple(failed),
            wall_time=time.perf_counter() - started,
        )
        write_json(out / REPORT, report.to_dict(), indent=1)
        return report


def read_predictions(
    out_dir: str | PathLike[str],
    *,
    columns: Sequence[str] | None = None,
    allow_missing: bool = False,
) -> pd.DataFrame:
    """All predictions of an output directory in one table, in shard then chunk order.

    Parameters
    ----------
    out_dir : path
        An ``out_dir`` of :func:`predict_catalogue`.
    columns : sequence of str, optional
        Read only these columns.
    allow_missing : bool
        Return what is there when some units have no output (failed or not run
        yet); otherwise that raises, naming them.

    Raises
    ------
    DataError
        No manifest in ``out_dir``, or units without output (unless ``allow_missing``).

    Examples
    --------
    See :func:`predict_catalogue`.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out_dir)
    manifest_path = out / MANIFEST
    if not manifest_path.is_file():
        raise DataError(f"no {MANIFEST}: not an output of predict_catalogue", source=str(out))
    units = _read_json(manifest_path)["units"]
    missing = [u for u in units if not _output_ok(out / u["output"], u["n_rows"])]
    if missing and not allow_missing:
        names = ", ".join(f"{u['shard']} chunk {u['chunk']}" for u in missing[:3])
        raise DataError(
            f"{len(missing)} of {len(units)} units have no complete output ({names}"
            f"{', ...' if len(missing) > 3 else ''}); rerun predict_catalogue with the same "
            "arguments to finish them, or pass allow_missing=True",
            source=str(out),
        )
    skip = {id(u) for u in missing}
    tables = [
        pq.read_table(out / u["output"], columns=list(columns) if columns else None)
        for u in units
        if id(u) not in skip
    ]
    if not tables:
        return pd.DataFrame(columns=list(columns) if columns else None)
    return pa.concat_tables(tables, promote_options="permissive").to_pandas()
