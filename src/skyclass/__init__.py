"""skyclass: deep-learning classification of astronomical objects from survey data."""

from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve, LightCurveSet, sanitize

__version__ = "0.1.0"
__all__ = ["DataError", "LightCurve", "LightCurveSet", "__version__", "sanitize"]
