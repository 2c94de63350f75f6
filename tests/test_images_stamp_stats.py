"""Stamp statistics: known truth from simulated stars, and the real cutouts in the same units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skyclass.images.simulate import simulate_stamps
from skyclass.images.stamp_stats import (
    PROFILE_RADII,
    compare_stamps,
    label_caution,
    stamp_statistics,
)


def test_bright_simulated_stars_give_back_their_seeing_colours_and_noise():
    stars = simulate_stamps(40, classes=("star",), size=48, seed=1, r_range=(16.0, 18.0))
    stats = stamp_statistics(stars)
    truth = stars.truth
    # pixel sampling and the Kolmogorov wings widen the measured FWHM by a few per cent
    ratio = stats["fwhm_arcsec"] / truth["seeing_r"]
    assert 0.95 < ratio.median() < 1.15 and ratio.max() < 1.3
    np.testing.assert_allclose(stats["g_r"], truth["g_r"], atol=0.05)
    np.testing.assert_allclose(stats["r_i"], truth["r_i"], atol=0.05)
    assert np.all(np.abs(stats["bg_r"]) < 0.01)  # sky-subtracted
    assert stats["noise_g"].median() < stats["noise_r"].median() < stats["noise_i"].median()
    profile = stats[[f"profile_{r}" for r in PROFILE_RADII]].median().to_numpy()
    assert profile[0] == 1.0 and np.all(np.diff(profile) <= 0)


def test_the_comparison_has_one_row_per_set_and_class_with_its_count():
    stats = stamp_statistics(simulate_stamps(6, classes=("star", "galaxy"), size=32, seed=0))
    columns, rows = compare_stamps({"a": stats, "b": stats})
    assert [r[:3] for r in rows] == [
        ["a", "galaxy", 3],
        ["a", "star", 3],
        ["b", "galaxy", 3],
        ["b", "star", 3],
    ]
    assert len(columns) == len(rows[0])


def test_stamps_without_gri_are_refused():
    cut = simulate_stamps(2, classes=("star",), bands=("r",), size=16, seed=0)
    with pytest.raises(ValueError, match="lack band"):
        stamp_statistics(cut)


@pytest.mark.realdata
def test_real_sdss_stamps_are_measured_in_nanomaggies(shared_data):
    from skyclass.images.stamps import load_stamps

    real = load_stamps(shared_data / "sdss_cutouts_smoke", label_names={-1: "star", 1: "galaxy"})
    stats = stamp_statistics(real)
    fwhm = stats["fwhm_arcsec"].dropna()  # NaN: no half-maximum within the aperture (faint)
    assert len(stats) == 20 and len(fwhm) >= 18 and fwhm.between(0.5, 4.0).all()
    assert stats["noise_r"].between(0.001, 0.1).all() and np.isfinite(stats["g_r"]).all()


def test_simulated_galaxies_are_broader_than_stars_so_no_caution():
    stats = stamp_statistics(simulate_stamps(40, classes=("star", "galaxy"), size=48, seed=2))
    assert label_caution(stats) is None
    # the same stamps with their labels swapped are flagged, with both medians named
    swapped = stats.assign(label=stats["label"].map({"star": "galaxy", "galaxy": "star"}))
    text = label_caution(swapped)
    assert text is not None and text.count("″") == 2
    assert label_caution(stats[stats["label"] == "star"]) is None  # one class: nothing to say


def test_the_caution_needs_both_classes_and_counts_unmeasured_stamps_as_broad():
    stars = [1.4, 1.3, 1.2]
    none_measured = pd.DataFrame(
        {
            "label": ["galaxy"] * 3 + ["star"] * 3 + [None],
            "fwhm_arcsec": [np.nan] * 3 + stars + [0.5],
        }
    )
    assert label_caution(none_measured) is None
    # two galaxies without an FWHM count as broad: their median is no longer compact
    assert (
        label_caution(none_measured.assign(fwhm_arcsec=[1.0, np.nan, np.nan, *stars, 0.5])) is None
    )
    one_broad = none_measured.assign(fwhm_arcsec=[1.0, 0.9, np.nan, *stars, 0.5])
    text = label_caution(one_broad)  # the unlabelled stamp is left out
    assert "the 3 stamps labelled galaxy have a median r FWHM of 1.00″" in text
    assert "the 3 labelled star 1.30″ (one without an FWHM" in text
    assert label_caution(one_broad, min_count=4) is None
