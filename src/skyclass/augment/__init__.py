"""Augmentation and balancing, built from training objects only.

- :mod:`skyclass.augment.gp` — Gaussian-process synthetic light curves (kang2023);
- :mod:`skyclass.augment.balance` — bagging plans, the paper's two baselines,
  class weights and density weights (monti2024);
- :mod:`skyclass.augment.images` — rotations, flips and resizing of cutouts.
"""

from skyclass.augment.balance import (
    Bag,
    bagging_plan,
    check_plan,
    class_weights,
    density_weights,
    equal_augmentation_plan,
    moderate_augmentation_plan,
)
from skyclass.augment.gp import GPAugmenter, GPConfig, fit_gp_many, synthesize, synthesize_many
from skyclass.augment.images import ImageAugment

__all__ = [
    "Bag",
    "GPAugmenter",
    "GPConfig",
    "ImageAugment",
    "bagging_plan",
    "check_plan",
    "class_weights",
    "density_weights",
    "equal_augmentation_plan",
    "fit_gp_many",
    "moderate_augmentation_plan",
    "synthesize",
    "synthesize_many",
]
