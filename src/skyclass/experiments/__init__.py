"""Paper reproductions: one YAML per seed paper and one runner each.

``skyclass reproduce NAME [--quick] --data-root PATH --out DIR`` loads
``configs/NAME.yaml`` (its ``quick`` section merged in with ``--quick``), runs the
paper's pipeline on the closest real data (``SKYCLASS_SHARED_DATA``) and writes
one run directory with ``config.yaml``, ``metrics.json`` (with the paper's
comparison tables), ``predictions.parquet`` and ``report.html``.

Examples
--------
>>> "akhmetali2025" in list_experiments()
True
>>> cfg = load_experiment("akhmetali2025", quick=True)
>>> cfg.name, cfg.quick
('akhmetali2025', True)
"""

from skyclass.experiments.runner import (
    ExperimentConfig,
    list_experiments,
    load_experiment,
    register_experiment,
    reproduce,
)

__all__ = [
    "ExperimentConfig",
    "list_experiments",
    "load_experiment",
    "register_experiment",
    "reproduce",
]
