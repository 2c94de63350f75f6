"""Augmentation and balancing: GP synthetic curves, bagging plans, weights, image augmentation."""
