"""What every long study shares: one fingerprint, one unit record, one resume, bagging, logs."""

from skyclass.study.units import (
    find_unit,
    fingerprint,
    keep_run,
    objects_digest,
    record_unit,
    reuse_fitted,
    reuse_result,
    scores_only,
    unit_origin,
    unit_record,
    write_json,
)

__all__ = [
    "find_unit",
    "fingerprint",
    "keep_run",
    "objects_digest",
    "record_unit",
    "reuse_fitted",
    "reuse_result",
    "scores_only",
    "unit_origin",
    "unit_record",
    "write_json",
]
