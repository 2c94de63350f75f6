"""Training: one entry (:func:`fit`), the loop (:mod:`~skyclass.training.loop`), its
checkpoints (:mod:`~skyclass.training.checkpoint`), several processes
(:mod:`~skyclass.training.distributed`), its data, folds and ensembles."""

from skyclass.training.cv import (
    repeated_stratified_kfold,
    stratified_kfold,
    stratify_bins,
    train_val_split,
)
from skyclass.training.data import ArrayDataset, check_batch, make_loader, set_epoch
from skyclass.training.distributed import (
    barrier,
    is_main_process,
    join_process_group,
    process_count,
    sum_over_processes,
)
from skyclass.training.ensemble import (
    Ensemble,
    average_probabilities,
    ensemble_spread,
    freeze,
    prepare_second_stage,
)
from skyclass.training.fitting import FittedNetwork, fit, shape_options, train_config
from skyclass.training.loop import (
    METRICS,
    History,
    TrainConfig,
    Trainer,
    TrainingError,
    budget_epochs,
    cosine_factor,
    refresh_batch_norm,
    seed_everything,
)

__all__ = [
    "METRICS",
    "ArrayDataset",
    "Ensemble",
    "FittedNetwork",
    "History",
    "TrainConfig",
    "Trainer",
    "TrainingError",
    "average_probabilities",
    "barrier",
    "budget_epochs",
    "check_batch",
    "cosine_factor",
    "ensemble_spread",
    "fit",
    "freeze",
    "is_main_process",
    "join_process_group",
    "make_loader",
    "prepare_second_stage",
    "process_count",
    "refresh_batch_norm",
    "repeated_stratified_kfold",
    "seed_everything",
    "set_epoch",
    "shape_options",
    "stratified_kfold",
    "stratify_bins",
    "sum_over_processes",
    "train_config",
    "train_val_split",
]
