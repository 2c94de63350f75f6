"""Simulated SDSS-like stamps: reproducibility, shapes, and the physics they are meant to have."""

from __future__ import annotations

import math
import sys

import numpy as np
import pandas as pd
import pytest

from skyclass.exceptions import MissingDependencyError
from skyclass.images.cutouts import Cutouts, read_cutouts
from skyclass.images.simulate import (
    CLASSES,
    SDSS_BANDS,
    simulate_stamps,
    stellar_locus_gr,
)

galsim = pytest.importorskip("galsim")

PIXEL = 0.396


def _adaptive_sigma(image: np.ndarray) -> float:
    """Gaussian-weighted second-moment size [pixels] of a noiseless stamp."""
    img = galsim.Image(np.ascontiguousarray(image, dtype=np.float64))
    return galsim.hsm.FindAdaptiveMom(img).moments_sigma


def _psf_sigma(fwhm: float, *, psf=None) -> float:
    """Size [pixels] of the PSF alone (Kolmogorov unless ``psf`` is given) on a 50×50 stamp."""
    psf = psf or galsim.Kolmogorov(fwhm=fwhm)
    return galsim.hsm.FindAdaptiveMom(psf.drawImage(nx=50, ny=50, scale=PIXEL)).moments_sigma


def _mag(flux_nmgy: np.ndarray) -> np.ndarray:
    return 22.5 - 2.5 * np.log10(flux_nmgy)


@pytest.fixture(scope="module")
def points():
    """Noiseless stars and quasars."""
    return simulate_stamps(80, classes=("star", "quasar"), seed=3, noise=False)


@pytest.fixture(scope="module")
def galaxies():
    return simulate_stamps(40, classes=("galaxy",), seed=4, noise=False)


# ------------------------------------------------------------- bookkeeping
def test_same_seed_same_arrays_other_seed_differs():
    a = simulate_stamps(9, seed=5, neighbours=True, cosmic_rays=True)
    b = simulate_stamps(9, seed=5, neighbours=True, cosmic_rays=True)
    c = simulate_stamps(9, seed=6, neighbours=True, cosmic_rays=True)
    assert np.array_equal(a.stamps, b.stamps)
    assert np.array_equal(a.rgb, b.rgb)
    assert a.truth.equals(b.truth)
    assert list(a.labels) == list(b.labels)
    assert not np.array_equal(a.stamps, c.stamps)
    assert not np.allclose(a.truth["r_mag"], c.truth["r_mag"])


def test_shapes_dtypes_and_fields():
    cut = simulate_stamps(7, bands=("i", "g"), size=31, seed=1)
    assert len(cut) == 7
    assert cut.stamps.shape == (7, 2, 31, 31) and cut.stamps.dtype == np.float32
    assert cut.bands == ("i", "g")
    assert len(set(cut.ids)) == 7 and cut.skipped == ()
    assert ((cut.ra >= 0) & (cut.ra < 360)).all() and (np.abs(cut.dec) <= 90).all()
    assert len(cut.flags) == len(cut.truth) == len(cut.labels) == 7
    assert list(cut.truth["id"]) == list(cut.ids)
    assert {"mag_i", "mag_g", "seeing_i", "seeing_g"} <= set(cut.truth.columns)
    assert "mag_r" not in cut.truth.columns  # only simulated bands
    assert cut.meta["units"] == "nanomaggy" and cut.meta["source"] == "simulation"
    assert np.isfinite(cut.stamps).all()
    assert cut.rgb is None  # no Lupton RGB without all of g, r, i


def test_class_fractions_respected_and_shuffled():
    cut = simulate_stamps(30, class_fractions=(5, 3, 2), seed=2, noise=False, bands=("r",), size=16)
    counts = {c: int((cut.labels == c).sum()) for c in ("galaxy", "quasar", "star")}
    assert counts == {"galaxy": 15, "quasar": 9, "star": 6}
    assert list(cut.labels) != sorted(cut.labels)
    assert (cut.truth["label"] == cut.labels).all()
    only = simulate_stamps(4, classes=("star",), seed=0, bands=("r",), size=16)
    assert set(only.labels) == {"star"}


def test_r_magnitudes_in_range():
    cut = simulate_stamps(60, seed=7, noise=False, bands=("r",), size=16)
    r = cut.truth["r_mag"]
    assert r.between(14.0, 22.0).all() and r.max() - r.min() > 5
    bright = simulate_stamps(10, r_range=(15.0, 16.0), seed=7, bands=("r",), size=16)
    assert bright.truth["r_mag"].between(15.0, 16.0).all()


def test_seeing_distribution_and_wavelength_dependence():
    cut = simulate_stamps(600, classes=("blank",), seed=8, noise=False, size=8)
    t = cut.truth
    assert 1.3 < t["seeing_r"].median() < 1.5
    assert 0.1 < np.log(t["seeing_r"]).std() < 0.3
    assert (t["seeing_g"] > t["seeing_r"]).all() and (t["seeing_i"] < t["seeing_r"]).all()
    np.testing.assert_allclose(t["seeing_g"] / t["seeing_r"], (4686 / 6166) ** -0.2)


# ----------------------------------------------------------------- physics
def test_noiseless_flux_matches_magnitude_and_is_monotone(points):
    t = points.truth
    for ib, band in enumerate(points.bands):
        total = points.stamps[:, ib].sum(axis=(1, 2))
        expected = 10 ** (-0.4 * (t[f"mag_{band}"] - 22.5))
        # the 50×50 stamp (19.8″) holds all but the far PSF wings
        np.testing.assert_allclose(total / expected, 1.0, atol=0.02)
    # brighter r, more flux, for every pair further apart than the ≤ 1 % lost to the wings
    r = t["r_mag"].to_numpy()
    total = points.stamps[:, 1].sum(axis=(1, 2))
    brighter = r[:, None] < r[None, :] - 0.03
    assert brighter.sum() > 2000
    assert (total[:, None] > total[None, :])[brighter].all()


def test_point_sources_centred_at_their_offsets(points):
    img = points.stamps[:, 1].astype(float)
    yy, xx = np.mgrid[:50, :50]
    total = img.sum(axis=(1, 2))
    cx = (img * xx).sum(axis=(1, 2)) / total
    cy = (img * yy).sum(axis=(1, 2)) / total
    # the centre is (size - 1) / 2, as for real cutouts, and the flags say where the source is
    np.testing.assert_allclose(cx, 24.5 + points.truth["x_offset"], atol=0.05)
    np.testing.assert_allclose(cy, 24.5 + points.truth["y_offset"], atol=0.05)
    np.testing.assert_array_equal(points.flags["offset_x"], points.truth["x_offset"])
    assert np.abs(points.truth[["x_offset", "y_offset"]].to_numpy()).max() <= 0.5


def test_point_sources_have_psf_size_galaxies_are_larger(points, galaxies):
    t = points.truth
    ratio = [_adaptive_sigma(points.stamps[k, 1]) / _psf_sigma(t["seeing_r"][k]) for k in range(20)]
    np.testing.assert_allclose(ratio, 1.0, atol=0.01)
    g = galaxies.truth
    gal_ratio = np.array(
        [
            _adaptive_sigma(galaxies.stamps[k, 1]) / _psf_sigma(g["seeing_r"][k])
            for k in range(len(galaxies))
        ]
    )
    assert np.median(gal_ratio) > 1.3 and (gal_ratio > 1.0).all()
    # larger galaxies look larger
    big = g["half_light_radius"] > g["half_light_radius"].median()
    assert gal_ratio[big].mean() > gal_ratio[~big].mean()


def test_moffat_psf_option():
    cut = simulate_stamps(5, classes=("star",), psf="moffat", seed=9, noise=False, bands=("r",))
    for k in range(5):
        fwhm = cut.truth["seeing_r"][k]
        sigma = _psf_sigma(fwhm, psf=galsim.Moffat(beta=3.5, fwhm=fwhm))
        assert _adaptive_sigma(cut.stamps[k, 0]) == pytest.approx(sigma, rel=0.01)


def test_quasars_bluer_than_stellar_locus_in_measured_colours(points):
    # colours measured on the stamps (5-pixel radius aperture, noiseless)
    yy, xx = np.mgrid[:50, :50]
    aperture = (xx - 24.5) ** 2 + (yy - 24.5) ** 2 <= 25
    flux = {b: points.stamps[:, i][:, aperture].sum(axis=1) for i, b in enumerate(points.bands)}
    g_r = _mag(flux["g"]) - _mag(flux["r"])
    r_i = _mag(flux["r"]) - _mag(flux["i"])
    offset = g_r - stellar_locus_gr(r_i)
    quasar = points.labels == "quasar"
    assert offset[~quasar].mean() == pytest.approx(0.0, abs=0.05)  # stars lie on the locus
    assert offset[quasar].mean() < -0.15  # UV excess: quasars bluer at fixed r−i


def test_lyman_alpha_forest_reddens_high_redshift_quasars():
    cut = simulate_stamps(400, classes=("quasar",), seed=15, noise=False, bands=("r",), size=8)
    t = cut.truth
    assert t["redshift"].between(0.3, 3.0).all()
    high = t["g_r"][t["redshift"] > 2.75].median()
    assert high > t["g_r"][t["redshift"].between(2.3, 2.6)].median() + 0.08


def test_bulge_dominated_galaxies_are_redder():
    cut = simulate_stamps(200, classes=("galaxy",), seed=10, noise=False, size=8, bands=("r",))
    t = cut.truth
    assert np.corrcoef(t["bulge_fraction"], t["g_r"])[0, 1] > 0.5
    assert t["ellipticity"].between(0, 1).all() and t["ellipticity"].max() > 0.4
    assert t["half_light_radius"].between(0.1, 6.0).all()
    # fainter galaxies are smaller
    assert np.corrcoef(t["r_mag"], np.log(t["hlr_disk"]))[0, 1] < -0.5


def test_blank_sky_noise_matches_documented_level():
    cut = simulate_stamps(20, classes=("blank",), seed=11)
    assert cut.truth["r_mag"].isna().all()
    for ib, band in enumerate(cut.bands):
        pixels = cut.stamps[:, ib].astype(float)
        sigma = SDSS_BANDS[band].pixel_sigma(PIXEL)
        assert pixels.std() == pytest.approx(sigma, rel=0.02)
        assert abs(pixels.mean()) < 0.02 * sigma  # sky subtracted: 50 000 pixels, SE 0.005σ
    quiet = simulate_stamps(3, classes=("blank",), seed=11, noise=False)
    assert not quiet.stamps.any()


def test_noise_includes_the_source_photons():
    kw = {"n": 30, "classes": ("star",), "r_range": (14.0, 15.0), "seed": 17, "bands": ("r",)}
    model = simulate_stamps(**kw, noise=False).stamps[:, 0].astype(float)
    noisy = simulate_stamps(**kw).stamps[:, 0].astype(float)  # same sources, same seed
    r = SDSS_BANDS["r"]
    e = r.electrons_per_nmgy
    predicted = (model * e + r.sky_electrons(PIXEL) + r.read_noise**2) / e**2
    z = (noisy - model) / np.sqrt(predicted)
    bright = model * e > 20 * r.sky_electrons(PIXEL)  # source-dominated pixels
    assert bright.sum() > 100
    assert z[bright].std() == pytest.approx(1.0, abs=0.1)
    assert z.std() == pytest.approx(1.0, abs=0.02)


def test_documented_sdss_numbers_give_sdss_depth():
    r = SDSS_BANDS["r"]
    assert r.nmgy_per_adu == pytest.approx(0.0052, abs=2e-4)
    assert r.gain == pytest.approx(4.7) and r.read_noise == pytest.approx(5.0)
    assert 100 < r.sky_electrons(PIXEL) / r.gain < 160  # ≈ 130 ADU of r sky per pixel
    # 5σ point source in 1.4″ seeing: noise-equivalent area 4πσ² of a Gaussian PSF
    sigma_pix = 1.4 / 2.3548 / PIXEL
    noise = r.pixel_sigma(PIXEL) * math.sqrt(4 * math.pi * sigma_pix**2)
    depth = 22.5 - 2.5 * math.log10(5 * noise)
    assert 22.3 < depth < 23.2  # SDSS r: ≈ 22.7
    # bluer bands have darker sky and lower noise, as in SDSS
    assert SDSS_BANDS["g"].pixel_sigma(PIXEL) < r.pixel_sigma(PIXEL)
    assert SDSS_BANDS["i"].pixel_sigma(PIXEL) > r.pixel_sigma(PIXEL)


# ----------------------------------------------------------------- options
def test_neighbours_add_only_their_own_light():
    kw = {"n": 20, "seed": 12, "noise": False, "bands": ("r",)}
    alone = simulate_stamps(**kw)
    crowded = simulate_stamps(**kw, neighbours=True)
    assert alone.truth["r_mag"].equals(crowded.truth["r_mag"])  # same main sources
    extra = crowded.stamps - alone.stamps
    n_nb = crowded.flags["n_neighbours"].to_numpy()
    assert n_nb.sum() > 5 and (n_nb == 0).any()
    assert np.allclose(extra[n_nb == 0], 0)
    assert (extra[n_nb > 0].sum(axis=(1, 2, 3)) > 0).all()
    # neighbours are fainter than the main source and off-centre
    main = 10 ** (-0.4 * (alone.truth["r_mag"].to_numpy() - 22.5))
    assert (extra.sum(axis=(1, 2, 3)) <= main * n_nb * 10**-0.2).all()
    assert (
        np.abs(extra[:, 0, 22:27, 22:27]).max(axis=(1, 2))
        < 0.5 * alone.stamps[:, 0].max(axis=(1, 2))
    ).all()


def test_cosmic_rays_are_sharp_and_counted():
    kw = {"n": 15, "seed": 13, "noise": False}
    clean = simulate_stamps(**kw)
    hit = simulate_stamps(**kw, cosmic_rays=True)
    assert np.array_equal(clean.truth["r_mag"], hit.truth["r_mag"])
    rays = (hit.stamps - clean.stamps).astype(float)
    n_cr = hit.flags["n_cosmic_rays"].to_numpy()
    assert n_cr.sum() > 10 and (n_cr == hit.truth["n_cosmic_rays"]).all()
    assert (rays >= 0).all()
    touched = (rays > 0).sum(axis=(1, 2, 3))
    assert (touched <= 8 * n_cr).all() and (touched[n_cr > 0] > 0).all()
    assert (touched[n_cr == 0] == 0).all()
    # each pixel hit holds ≥ 300 e⁻, far above the noise
    e_per_nmgy = np.array([SDSS_BANDS[b].electrons_per_nmgy for b in hit.bands])
    assert (rays * e_per_nmgy[None, :, None, None])[rays > 0].min() > 299


def test_rgb_is_lupton_of_i_r_g():
    from astropy.visualization import make_lupton_rgb

    cut = simulate_stamps(4, seed=14)
    assert cut.rgb.shape == (4, 50, 50, 3) and cut.rgb.dtype == np.uint8
    for k in range(4):
        g, r, i = cut.stamps[k]
        expected = make_lupton_rgb(i, r, g, minimum=0, stretch=0.5, Q=10)
        np.testing.assert_array_equal(cut.rgb[k], expected)
    assert cut.rgb.max() > 100  # sources show


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"classes": ("galaxy", "comet")}, "classes"),
        ({"class_fractions": (1, 2)}, "class_fractions"),
        ({"class_fractions": (1, -1, 1)}, "class_fractions"),
        ({"bands": ("g", "z")}, "bands"),
        ({"psf": "airy"}, "kolmogorov"),
        ({"r_range": (22, 14)}, "r_range"),
        ({"size": 4}, "size"),
    ],
)
def test_bad_arguments_name_the_valid_choices(kwargs, words):
    with pytest.raises(ValueError, match=words):
        simulate_stamps(2, **kwargs)


def test_seed_must_be_an_int():
    with pytest.raises(TypeError, match="seed"):
        simulate_stamps(2, seed=None)


def test_valid_class_names_are_listed():
    with pytest.raises(ValueError) as err:
        simulate_stamps(2, classes=("comet",))
    assert all(c in str(err.value) for c in CLASSES)


def test_missing_galsim_names_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "galsim", None)  # makes `import galsim` fail
    with pytest.raises(MissingDependencyError, match=r"pip install 'galsim'"):
        simulate_stamps(2)


def test_stellar_locus_passes_through_dwarf_colours():
    # (r−i, g−r) medians of SDSS dwarfs: F turn-off, the Sun, K5, M0, M4
    anchors = [(0.05, 0.25), (0.11, 0.44), (0.43, 1.15), (0.6, 1.32), (1.3, 1.5)]
    for r_i, g_r in anchors:
        assert stellar_locus_gr(r_i) == pytest.approx(g_r, abs=0.05)


def test_is_a_cutouts_and_writes_its_format(tmp_path):
    cut = simulate_stamps(6, seed=16, neighbours=True)
    assert isinstance(cut, Cutouts)
    assert len(cut.truth) == 6 and not cut.flags["flagged"].any()
    assert {"object_id", "edge", "n_nan", "n_neighbours", "n_cosmic_rays"} <= set(cut.flags)
    for name in ("sim.npz", "sim.parquet"):
        back = read_cutouts(cut.write(tmp_path / name))
        np.testing.assert_array_equal(back.stamps, cut.stamps)
        np.testing.assert_array_equal(back.rgb, cut.rgb)
        assert back.labels.tolist() == cut.labels.tolist()
        assert back.meta["seed"] == 16 and back.meta["units"] == "nanomaggy"
        assert back.flags["n_neighbours"].tolist() == cut.flags["n_neighbours"].tolist()


def test_select_keeps_every_per_stamp_field_aligned():
    cut = simulate_stamps(6, seed=3)
    part = cut.select([4, 1])
    assert type(part) is type(cut) and part.ids.tolist() == [cut.ids[4], cut.ids[1]]
    np.testing.assert_array_equal(part.stamps, cut.stamps[[4, 1]])
    np.testing.assert_array_equal(part.rgb, cut.rgb[[4, 1]])
    assert part.labels.tolist() == [cut.labels[4], cut.labels[1]]
    pd.testing.assert_frame_equal(part.truth, cut.truth.iloc[[4, 1]].reset_index(drop=True))
    assert part.flags["object_id"].tolist() == part.ids.tolist()
