"""Typed configuration: pydantic models loaded from YAML, overridden by dotted keys.

Every run saves its resolved configuration, so what ran is what is recorded.

Examples
--------
>>> cfg = ReadConfig.load(overrides=["min_epochs=5", "columns.mag=Mag"])
>>> cfg.min_epochs, cfg.columns
(5, {'mag': 'Mag'})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from skyclass.exceptions import DataError

__all__ = ["Config", "ReadConfig", "apply_overrides"]


def apply_overrides(data: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Return ``data`` with ``key.sub=value`` overrides applied (values parsed as YAML).

    Examples
    --------
    >>> apply_overrides({"train": {"lr": 0.001}}, ["train.lr=1e-2", "seed=3"])
    {'train': {'lr': 0.01}, 'seed': 3}
    """
    out: dict[str, Any] = _deepcopy(data)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"override {item!r} is not of the form key.sub=value")
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"override {item!r}: {part!r} is not a section")
            node = child
        node[parts[-1]] = _parse_value(raw)
    return out


def _parse_value(raw: str) -> Any:
    """YAML value, with numbers YAML 1.1 leaves as text (``1e-2``) made floats."""
    value = yaml.safe_load(raw) if raw.strip() else ""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _deepcopy(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deepcopy(v) if isinstance(v, Mapping) else v for k, v in data.items()}


class Config(BaseModel):
    """Base of every skyclass configuration: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def load(
        cls, path: str | PathLike[str] | None = None, *, overrides: Iterable[str] = ()
    ) -> Self:
        """Build from an optional YAML file and dotted-key overrides.

        Raises
        ------
        DataError
            Naming the file: unreadable, not YAML (with the line), or the offending
            keys when the YAML does not fit the model.
        """
        data: dict[str, Any] = {}
        source = str(path) if path else "<overrides>"
        if path is not None:
            try:
                text = Path(path).read_text()
            except OSError as exc:
                raise DataError(
                    f"cannot read the config file ({exc.strerror}); check the path", source=source
                ) from None
            try:
                loaded = yaml.safe_load(text) if text.strip() else {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
                problem = getattr(exc, "problem", None) or "cannot be parsed"
                raise DataError(
                    f"not valid YAML ({problem}{where}); fix the file", source=source
                ) from None
            if not isinstance(loaded, dict):
                raise DataError("a config file must hold a mapping of keys", source=source)
            data = loaded
        return cls.from_mapping(data, overrides=overrides, source=source)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, overrides: Iterable[str] = (), source: str = "<mapping>"
    ) -> Self:
        """Build from a mapping (as read from YAML) and dotted-key overrides.

        Raises
        ------
        DataError
            Naming ``source`` and the offending keys when the data do not fit the model.
        """
        try:
            return cls.model_validate(apply_overrides(data, overrides))
        except ValidationError as exc:
            errors = exc.errors()
            problems = "; ".join(
                ": ".join(
                    part
                    for part in (
                        ".".join(str(p) for p in e["loc"]),
                        e["msg"].removeprefix("Value error, "),
                    )
                    if part
                )
                for e in errors
            )
            keys = any(e["type"] in ("extra_forbidden", "missing") for e in errors)
            listed = f"; valid keys: {sorted(cls.model_fields)}" if keys else ""
            raise DataError(f"invalid configuration ({problems}){listed}", source=source) from None

    def to_yaml(self, path: str | PathLike[str] | None = None) -> str:
        """The resolved configuration as YAML, written to ``path`` when given."""
        text = yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)
        if path is not None:
            Path(path).write_text(text)
        return text


class ReadConfig(Config):
    """How to read survey files into a light-curve set.

    Attributes
    ----------
    format : str
        Reader name (``skyclass readers`` lists them) or ``"auto"``.
    min_epochs : int, optional
        Fewest good epochs an object needs to be kept (the reader's default when unset).
    strict : bool, optional
        Stop at the first bad object instead of skipping and listing it.
    columns : dict
        ``{role: column}`` names for tables whose columns have unusual names.
    options : dict
        Further keyword arguments of the chosen reader.
    """

    format: str = "auto"
    min_epochs: int | None = None
    strict: bool | None = None
    columns: dict[str, str] = {}
    options: dict[str, Any] = {}

    def reader_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`skyclass.io.read`."""
        kwargs: dict[str, Any] = {}
        if self.min_epochs is not None:
            kwargs["min_epochs"] = self.min_epochs
        if self.strict is not None:
            kwargs["strict"] = self.strict
        if self.columns:
            kwargs["columns"] = dict(self.columns)
        kwargs.update(self.options)
        return kwargs
