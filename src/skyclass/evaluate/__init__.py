"""Evaluation: metrics, calibration and reports (the only place that draws)."""
