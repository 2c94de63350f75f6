"""Simulated SDSS-like gri cutouts of galaxies, quasars and stars, drawn with GalSim.

gao2023 classified 50×50 gri cutouts of SDSS DR16 galaxies, quasars and stars.
:func:`simulate_stamps` makes stamps of the same kind from a stated, seeded
model, for tests, demos and experiments with known truth. **They are a
simulation, not SDSS data**; a classifier that does well on them has learnt the
assumptions below, not the sky.

Instrument and sky (approximate SDSS values; see :data:`SDSS_BANDS`)
    0.396″ pixels, 53.9 s exposures. Zero points (magnitude of 1 ADU in one
    exposure) g 28.5, r 28.2, i 27.9, i.e. 0.0040, 0.0052, 0.0069 nanomaggies
    per ADU, like the ``NMGY`` of SDSS frames. Dark-sky surface brightness
    g 21.9, r 20.9, i 20.2 mag/arcsec² (≈ 68, 130, 188 ADU per pixel). Gains
    g 3.9, r 4.7, i 5.0 e⁻/ADU, read noise 5 e⁻. These give a 5σ point-source
    depth of r ≈ 22.8 in 1.4″ seeing, close to SDSS's r ≈ 22.7.
Seeing and PSF
    One r-band FWHM per stamp, lognormal with median ``seeing_median`` and
    scatter 0.2 in ln FWHM (10–90 % range 1.1–1.8″ for 1.4″), clipped to
    0.7–3″; the other bands follow the Kolmogorov scaling FWHM ∝ λ^−0.2
    (g 6 % wider, i 4 % narrower than r). The PSF is ``galsim.Kolmogorov``
    (``psf="kolmogorov"``, default) or ``galsim.Moffat`` with β = 3.5
    (``psf="moffat"``). Every source in a stamp shares its PSF.
Brightness
    r magnitude uniform in ``r_range`` (14–22 by default); the other bands
    follow from the colours.
Stars
    Point sources on the SDSS stellar locus: r−i from a mixture of 75 % FGK
    stars, N(0.12, 0.10) clipped to −0.05…0.6, and 25 % M dwarfs,
    U(0.6, 1.8); g−r = :func:`stellar_locus_gr` (r−i) + N(0, 0.04), a smooth
    curve through the median colours of G, K and M dwarfs (Sun: g−r 0.44,
    r−i 0.11; M0: 1.3, 0.6; M4: 1.5, 1.3).
Quasars
    Point sources (no host galaxy) with z uniform in 0.3–3.0 and colours
    from a toy spectrum integrated through top-hat g (4000–5500 Å), r
    (5600–6900 Å) and i (6900–8400 Å) bands: a power law f_ν ∝ ν^α with
    α ~ N(−0.5, 0.3), broad lines with rest equivalent widths close to the
    SDSS composite (Lyα+N V 1216 Å 90 Å, C IV 25 Å, C III] 22 Å, Mg II 33 Å,
    Hβ 46 Å, [O III] 5007 16 Å, Hα 195 Å; Gaussian, 3000 km/s), and the Lyα
    forest, transmission exp(−0.0036 (λ/1216 Å)^3.7) blueward of Lyα and 0
    below the Lyman limit; plus N(0, 0.03) per colour. Quasars come out with
    g−r ≈ 0.0–0.2, r−i ≈ 0.0–0.2 (wiggling by ~0.1 mag as lines cross the
    bands) — bluer than stars of the same r−i, the UV excess — and g−r
    reddens by ≈ 0.2 from z = 2.5 to 3 as the forest enters g. (Real
    quasars at z ≈ 3 are redder still; the model has no Lyβ forest or
    Lyman-limit systems.)
Galaxies
    A de Vaucouleurs bulge (Sérsic n = 4, truncated at 8 half-light radii)
    plus an exponential disk (n = 1), bulge fraction B/T (in r) ~ Beta(0.7,
    1.3). Disk half-light radius log10(R/″) = log10 1.6 − 0.12 (r − 17) +
    N(0, 0.15), clipped to 0.3–6″ (≈ 3.7″ at r = 14, 0.4″ at r = 22); bulge
    radius 0.3–0.7 R. Disk axis ratio from a random inclination of a disk of
    intrinsic thickness 0.2, bulge axis ratio U(0.6, 1), one random position
    angle. Colours: disk g−r N(0.45, 0.10), r−i N(0.25, 0.06); bulge g−r
    N(0.85, 0.06), r−i N(0.40, 0.04) — bulge-dominated galaxies are redder.
    No redshift-dependent k-correction, no spiral arms, bars or dust lanes.
Position
    The main source lies at a random offset of up to half a pixel in x and y
    from the stamp centre ((size − 1) / 2, as for real cutouts), shared by all
    bands (perfectly registered bands).
Noise
    Poisson noise on source + sky electrons and Gaussian read noise; the
    sky level is then subtracted. ``noise=False`` gives the noiseless model.
Options (off by default)
    ``neighbours``: Poisson(1) extra sources per stamp, 0.5–3 mag fainter than
    the main source, 60 % galaxies and 40 % stars, uniform over the annulus
    from 5 px off the centre to 2 px inside the stamp's edge.
    ``cosmic_rays``: Poisson(2) hits per band and stamp (far more than
    SDSS's ≈ 0.1, to make them matter), each a 1–8 pixel streak of 300–5000
    e⁻ per pixel, added after the noise and not blurred by the PSF.
Class ``"blank"``
    Sky only, no source: for checking the noise and as a background class.

Not modelled: saturation (SDSS saturates near r ≈ 14 in good seeing), bad
columns, band-to-band misregistration, PSF variation within a stamp.

The result is a :class:`~skyclass.images.cutouts.Cutouts` (subclass
:class:`SimulatedCutouts`, with a ``truth`` table), so it writes the format
of real cutouts. Stamps are float32 in **nanomaggies** per pixel,
sky-subtracted, like SDSS ``frame`` files (a source of magnitude m has
10^(−0.4 (m − 22.5)) nanomaggies in total), with shape (N, n_bands, size,
size); ``rgb`` is :func:`skyclass.images.rgb.lupton_rgb` (R = i, G = r,
B = g; ``stretch=0.5, Q=10``), None unless g, r and i are all simulated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from skyclass._util import progress as progress_bar
from skyclass.exceptions import MissingDependencyError
from skyclass.images.cutouts import Cutouts
from skyclass.images.rgb import RGB_BANDS, lupton_rgb

__all__ = [
    "CLASSES",
    "SDSS_BANDS",
    "BandModel",
    "SimulatedCutouts",
    "simulate_stamps",
    "stellar_locus_gr",
]

#: Classes :func:`simulate_stamps` can draw.
CLASSES = ("galaxy", "quasar", "star", "blank")

EXPOSURE_TIME = 53.9  # s, one SDSS drift-scan exposure: the zero points below are for it
SEEING_SCATTER = 0.2  # in ln FWHM
SEEING_LIMITS = (0.7, 3.0)  # arcsec
MOFFAT_BETA = 3.5
NEIGHBOUR_MEAN = 1.0
COSMIC_RAY_MEAN = 2.0
_CHUNK = 256  # stamps whose noise is drawn at once: bounds the float64 temporaries


@dataclass(frozen=True)
class BandModel:
    """Approximate SDSS photometry of one band.

    Parameters
    ----------
    name : str
        Band name.
    wavelength : float
        Effective wavelength [Å].
    edges : tuple of float
        Top-hat approximation of the filter [Å], used for quasar colours.
    zeropoint : float
        Magnitude of 1 ADU in one 53.9 s exposure.
    sky : float
        Dark-sky surface brightness [mag/arcsec²].
    gain : float
        Electrons per ADU.
    read_noise : float
        Read noise [e⁻] per pixel.

    Examples
    --------
    >>> r = SDSS_BANDS["r"]
    >>> round(r.nmgy_per_adu, 4)
    0.0052
    >>> round(r.sky_electrons(0.396))
    613
    >>> round(r.pixel_sigma(0.396), 4)   # sky + read noise per pixel [nanomaggies]
    0.0282
    """

    name: str
    wavelength: float
    edges: tuple[float, float]
    zeropoint: float
    sky: float
    gain: float
    read_noise: float = 5.0

    @property
    def nmgy_per_adu(self) -> float:
        """Nanomaggies per ADU (SDSS's ``NMGY``)."""
        return 10.0 ** (-0.4 * (self.zeropoint - 22.5))

    @property
    def electrons_per_nmgy(self) -> float:
        """Electrons collected from one nanomaggy in one exposure."""
        return self.gain / self.nmgy_per_adu

    def sky_electrons(self, pixel_scale: float) -> float:
        """Mean sky level [e⁻] in a pixel of ``pixel_scale`` arcsec."""
        return self.gain * 10.0 ** (-0.4 * (self.sky - self.zeropoint)) * pixel_scale**2

    def pixel_sigma(self, pixel_scale: float) -> float:
        """Noise of an empty, sky-subtracted pixel [nanomaggies]: sky Poisson + read noise."""
        return math.sqrt(self.sky_electrons(pixel_scale) + self.read_noise**2) / (
            self.electrons_per_nmgy
        )


#: Approximate SDSS values per band (see the module docstring).
SDSS_BANDS: Mapping[str, BandModel] = MappingProxyType(
    {
        "g": BandModel("g", 4686.0, (4000.0, 5500.0), zeropoint=28.5, sky=21.9, gain=3.9),
        "r": BandModel("r", 6166.0, (5600.0, 6900.0), zeropoint=28.2, sky=20.9, gain=4.7),
        "i": BandModel("i", 7480.0, (6900.0, 8400.0), zeropoint=27.9, sky=20.2, gain=5.0),
    }
)

# (rest wavelength [Å], rest equivalent width [Å]) of the toy quasar spectrum
_QSO_LINES = (
    (1216.0, 90.0),
    (1549.0, 25.0),
    (1909.0, 22.0),
    (2798.0, 33.0),
    (4861.0, 46.0),
    (5007.0, 16.0),
    (6563.0, 195.0),
)
_QSO_LINE_WIDTH = 3000.0 / 299792.458  # Gaussian sigma as a fraction of the wavelength


@dataclass(frozen=True, eq=False, repr=False)
class SimulatedCutouts(Cutouts):
    """Simulated stamps: a :class:`~skyclass.images.cutouts.Cutouts` plus the drawn truth.

    Every :class:`~skyclass.images.cutouts.Cutouts` field is filled as for real
    cutouts (``stamps`` in nanomaggies, ``rgb``, ``flags``, ``labels``, ``meta``
    with the simulation settings and seed), so :meth:`write` writes the same
    format. ``truth`` is extra and is not written: save it with
    ``truth.to_parquet(...)``, or simulate again with ``meta["seed"]``.

    Parameters
    ----------
    truth : pandas.DataFrame
        The drawn parameters, one row per stamp (see :func:`simulate_stamps`).
    """

    truth: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        truth = pd.DataFrame() if self.truth is None else self.truth.reset_index(drop=True)
        if len(truth) != len(self):
            raise ValueError(f"truth must have one row per stamp ({len(self)}); got {len(truth)}")
        object.__setattr__(self, "truth", truth)


def _galsim():
    try:
        import galsim
    except ImportError as exc:
        raise MissingDependencyError("galsim", purpose="simulated image stamps") from exc
    return galsim


def stellar_locus_gr(r_i: Any) -> np.ndarray:
    """g−r of the SDSS stellar locus at a given r−i (smooth approximation).

    ``g−r = 1.56 − 1.52 exp(−(r−i) / 0.334)``: 0.25 at the F-star turn-off
    (r−i = 0.05), 0.45 for the Sun (0.11), 1.3 for M0 dwarfs (0.6) and ≈ 1.5
    for later M dwarfs. Meant for −0.05 ≤ r−i ≤ 1.8.

    Examples
    --------
    >>> stellar_locus_gr([0.11, 0.6]).round(2)
    array([0.47, 1.31])
    """
    r_i = np.asarray(r_i, dtype=float)
    return 1.56 - 1.52 * np.exp(-r_i / 0.334)


# ------------------------------------------------------------ parameter draws
def _star_colours(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    m_dwarf = rng.random(n) < 0.25
    r_i = np.where(
        m_dwarf,
        rng.uniform(0.6, 1.8, n),
        np.clip(rng.normal(0.12, 0.10, n), -0.05, 0.6),
    )
    g_r = stellar_locus_gr(r_i) + rng.normal(0.0, 0.04, n)
    return g_r, r_i


def _quasar_colours(
    z: np.ndarray, alpha: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """g−r and r−i of the toy quasar spectrum (see the module docstring)."""
    mags = {}
    for name in ("g", "r", "i"):
        lo, hi = SDSS_BANDS[name].edges
        lam = np.arange(lo, hi + 1.0, 10.0)  # observed wavelength grid [Å]
        rest = lam[None, :] / (1.0 + z[:, None])
        # f_nu ∝ nu^alpha ∝ lambda^-alpha; normalised at 3000 Å rest to keep numbers near 1
        cont = (rest / 3000.0) ** (-alpha[:, None])
        spec = cont.copy()
        for line, ew in _QSO_LINES:
            sigma = line * _QSO_LINE_WIDTH
            profile = np.exp(-0.5 * ((rest - line) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
            spec += ((line / 3000.0) ** (-alpha))[:, None] * ew * profile
        tau = 0.0036 * (lam[None, :] / 1216.0) ** 3.7
        trans = np.where(rest < 1216.0, np.exp(-tau), 1.0)
        trans = np.where(rest < 912.0, 0.0, trans)
        weight = 1.0 / lam  # photon-counting AB magnitude through a top-hat band
        flux = (spec * trans * weight).sum(axis=1) / weight.sum()
        mags[name] = -2.5 * np.log10(np.maximum(flux, 1e-30))
    n = len(z)
    return (
        mags["g"] - mags["r"] + rng.normal(0.0, 0.03, n),
        mags["r"] - mags["i"] + rng.normal(0.0, 0.03, n),
    )


def _galaxy_params(r: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = len(r)
    bt = rng.beta(0.7, 1.3, n)
    hlr_disk = np.clip(
        10.0 ** (math.log10(1.6) - 0.12 * (r - 17.0) + rng.normal(0.0, 0.15, n)), 0.3, 6.0
    )
    hlr_bulge = hlr_disk * rng.uniform(0.3, 0.7, n)
    cos_i = rng.random(n)
    q_disk = np.sqrt(cos_i**2 * (1.0 - 0.2**2) + 0.2**2)
    q_bulge = rng.uniform(0.6, 1.0, n)
    pa = rng.uniform(0.0, 180.0, n)
    disk_gr, disk_ri = rng.normal(0.45, 0.10, n), rng.normal(0.25, 0.06, n)
    bulge_gr, bulge_ri = rng.normal(0.85, 0.06, n), rng.normal(0.40, 0.04, n)
    # fractions of the r flux in each band (relative to r) for bulge and disk
    bulge_rel = {"g": 10 ** (-0.4 * bulge_gr), "r": np.ones(n), "i": 10 ** (0.4 * bulge_ri)}
    disk_rel = {"g": 10 ** (-0.4 * disk_gr), "r": np.ones(n), "i": 10 ** (0.4 * disk_ri)}
    total = {b: bt * bulge_rel[b] + (1 - bt) * disk_rel[b] for b in ("g", "r", "i")}
    return {
        "bulge_fraction": bt,
        "hlr_disk": hlr_disk,
        "hlr_bulge": hlr_bulge,
        "q_disk": q_disk,
        "q_bulge": q_bulge,
        "position_angle": pa,
        "g_r": -2.5 * np.log10(total["g"]),
        "r_i": 2.5 * np.log10(total["i"]),
        **{f"bulge_{b}": bt * bulge_rel[b] for b in ("g", "r", "i")},
        **{f"disk_{b}": (1 - bt) * disk_rel[b] for b in ("g", "r", "i")},
    }


def _sources(kinds: np.ndarray, r: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Colours, shapes and per-band flux fractions of sources of kinds star/quasar/galaxy."""
    n = len(kinds)
    out = {
        "g_r": np.full(n, np.nan),
        "r_i": np.full(n, np.nan),
        "redshift": np.full(n, np.nan),
        "alpha_nu": np.full(n, np.nan),
        "bulge_fraction": np.full(n, np.nan),
        "hlr_disk": np.zeros(n),
        "hlr_bulge": np.zeros(n),
        "q_disk": np.ones(n),
        "q_bulge": np.ones(n),
        "position_angle": np.zeros(n),
        **{f"{c}_{b}": np.zeros(n) for c in ("bulge", "disk") for b in ("g", "r", "i")},
    }
    star = np.flatnonzero(kinds == "star")
    out["g_r"][star], out["r_i"][star] = _star_colours(len(star), rng)
    qso = np.flatnonzero(kinds == "quasar")
    z = rng.uniform(0.3, 3.0, len(qso))
    alpha = rng.normal(-0.5, 0.3, len(qso))
    out["redshift"][qso], out["alpha_nu"][qso] = z, alpha
    out["g_r"][qso], out["r_i"][qso] = _quasar_colours(z, alpha, rng)
    gal = np.flatnonzero(kinds == "galaxy")
    for key, values in _galaxy_params(r[gal], rng).items():
        out[key][gal] = values
    return out


def _band_fluxes(src: Mapping[str, np.ndarray], r: np.ndarray, kinds: np.ndarray, band: str):
    """Total, bulge and disk flux [nanomaggies] of every source in ``band``."""
    f_r = 10.0 ** (-0.4 * (r - 22.5))
    colour = {"g": 10 ** (-0.4 * src["g_r"]), "r": 1.0, "i": 10 ** (0.4 * src["r_i"])}[band]
    total = np.where(kinds == "blank", 0.0, f_r * colour)
    return total, f_r * src[f"bulge_{band}"], f_r * src[f"disk_{band}"]


def _class_counts(n: int, fractions: np.ndarray) -> np.ndarray:
    """Counts summing to ``n`` closest to ``n * fractions`` (largest remainders)."""
    exact = n * fractions
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def _check_args(classes, class_fractions, bands, size, pixel_scale, seeing_median, r_range, psf):
    classes = tuple(classes)
    unknown = [c for c in classes if c not in CLASSES]
    if not classes or unknown or len(set(classes)) != len(classes):
        raise ValueError(f"classes must be distinct names among {CLASSES}, got {classes!r}")
    if class_fractions is None:
        fractions = np.full(len(classes), 1.0 / len(classes))
    else:
        fractions = np.asarray(class_fractions, dtype=float)
        if fractions.shape != (len(classes),) or (fractions < 0).any() or fractions.sum() <= 0:
            raise ValueError(
                f"class_fractions must be {len(classes)} non-negative numbers (one per class "
                f"in {classes}), got {class_fractions!r}"
            )
        fractions = fractions / fractions.sum()
    bands = tuple(bands)
    if not bands or any(b not in SDSS_BANDS for b in bands) or len(set(bands)) != len(bands):
        raise ValueError(f"bands must be distinct names among {tuple(SDSS_BANDS)}, got {bands!r}")
    if int(size) != size or size < 8:
        raise ValueError(f"size must be an integer of at least 8 pixels, got {size!r}")
    if not pixel_scale > 0 or not seeing_median > 0:
        raise ValueError("pixel_scale and seeing_median must be positive (arcsec)")
    lo, hi = r_range
    if not lo < hi:
        raise ValueError(f"r_range must be (faint limit > bright limit), got {r_range!r}")
    if psf not in _PSFS:
        raise ValueError(f"psf must be one of {tuple(_PSFS)}, got {psf!r}")
    return classes, fractions, bands


_PSFS = {
    "kolmogorov": lambda galsim, fwhm: galsim.Kolmogorov(fwhm=fwhm),
    "moffat": lambda galsim, fwhm: galsim.Moffat(beta=MOFFAT_BETA, fwhm=fwhm),
}


# ------------------------------------------------------------------ drawing
def _profile(galsim, k: int, src: Mapping[str, np.ndarray]):
    """Unit-flux bulge and disk of galaxy ``k``, or None for a point source."""
    if src["hlr_disk"][k] <= 0:
        return None
    beta = float(src["position_angle"][k]) * galsim.degrees
    disk = galsim.Exponential(half_light_radius=float(src["hlr_disk"][k]))
    disk = disk.shear(q=float(src["q_disk"][k]), beta=beta)
    hlr_b = float(src["hlr_bulge"][k])
    bulge = galsim.DeVaucouleurs(half_light_radius=hlr_b, trunc=8.0 * hlr_b)
    bulge = bulge.shear(q=float(src["q_bulge"][k]), beta=beta)
    return bulge, disk


def _cosmic_rays(
    plane: np.ndarray, rng: np.random.Generator, electrons_per_nmgy: float, size: int
) -> int:
    """Add Poisson(COSMIC_RAY_MEAN) sharp streaks to one stamp plane in place; their number."""
    hits = rng.poisson(COSMIC_RAY_MEAN)
    for _ in range(hits):
        length = rng.integers(1, 9)
        angle = rng.uniform(0.0, math.pi)
        y0, x0 = rng.uniform(0, size, 2)
        steps = np.arange(length)
        ys = np.clip(np.floor(y0 + steps * math.sin(angle)).astype(int), 0, size - 1)
        xs = np.clip(np.floor(x0 + steps * math.cos(angle)).astype(int), 0, size - 1)
        amp = np.exp(rng.uniform(math.log(300.0), math.log(5000.0), length))
        plane[ys, xs] += amp / electrons_per_nmgy
    return hits


def _band_profile(galsim, psf, prof, fluxes, k: int, shift):
    """One source in one band: a shifted PSF, or its bulge + disk convolved with the PSF."""
    total, bulge, disk = fluxes
    if prof is None:
        return psf.withFlux(float(total[k])).shift(*shift)
    b, d = prof
    galaxy = b.withFlux(float(bulge[k])) + d.withFlux(float(disk[k]))
    return galsim.Convolve(galaxy, psf).shift(*shift)


def simulate_stamps(
    n: int,
    *,
    classes: Sequence[str] = ("galaxy", "quasar", "star"),
    class_fractions: Sequence[float] | None = None,
    bands: Sequence[str] = ("g", "r", "i"),
    size: int = 50,
    pixel_scale: float = 0.396,
    seeing_median: float = 1.4,
    r_range: tuple[float, float] = (14.0, 22.0),
    psf: str = "kolmogorov",
    seed: int = 0,
    neighbours: bool = False,
    cosmic_rays: bool = False,
    noise: bool = True,
    progress: bool = False,
) -> SimulatedCutouts:
    """Seeded SDSS-like stamps of galaxies, quasars and stars (a simulation).

    The model and its approximate SDSS numbers are in the module docstring
    of :mod:`skyclass.images.simulate`.

    Parameters
    ----------
    n : int
        Number of stamps.
    classes : sequence of str
        Classes to draw, among ``"galaxy"``, ``"quasar"``, ``"star"`` and
        ``"blank"`` (sky only).
    class_fractions : sequence of float, optional
        Share of each class (normalised); equal shares by default. Counts are
        the nearest integers summing to ``n``; the order is shuffled.
    bands : sequence of str
        Bands among g, r, i, in the order of the stamp planes.
    size : int
        Stamp side [pixels].
    pixel_scale : float
        Pixel side [arcsec].
    seeing_median : float
        Median r-band FWHM [arcsec].
    r_range : tuple of float
        r magnitudes are uniform between these.
    psf : {"kolmogorov", "moffat"}
        Shape of the point-spread function.
    seed : int
        Seed of every random draw: the same seed gives identical arrays.
    neighbours : bool
        Add a few fainter sources around the main one.
    cosmic_rays : bool
        Add cosmic-ray hits (sharp streaks, independent per band).
    noise : bool
        Add sky, source and read noise; False gives the noiseless model.
    progress : bool
        Show a progress bar.

    Returns
    -------
    SimulatedCutouts
        A :class:`~skyclass.images.cutouts.Cutouts`: ``stamps`` float32 (n,
        n_bands, size, size) in sky-subtracted nanomaggies, ``rgb`` uint8 (n,
        size, size, 3) (None without all of g, r, i), ``labels``, ``flags``
        (the real cutouts' columns, with ``offset_x``, ``offset_y`` and
        ``n_neighbours``, ``n_cosmic_rays``), ``meta`` (settings, seed,
        ``units="nanomaggy"``); and ``truth`` with columns ``id``, ``label``, ``r_mag``,
        ``mag_<band>``, ``g_r``, ``r_i``, ``seeing`` (r FWHM, ″), ``seeing_<band>``,
        ``redshift`` and ``alpha_nu`` (quasars), ``half_light_radius`` (flux-weighted
        mean of bulge and disk radii, ″; 0 for point sources), ``hlr_disk``,
        ``hlr_bulge``, ``bulge_fraction`` (galaxies), ``ellipticity`` ((1−q)/(1+q) of
        the disk), ``position_angle`` (deg), ``x_offset``, ``y_offset`` (pixels from the
        centre (size−1)/2), ``n_neighbours``, ``n_cosmic_rays``. Blank stamps have NaN
        magnitudes.

    Raises
    ------
    skyclass.exceptions.MissingDependencyError
        When GalSim is not installed.

    Examples
    --------
    >>> cut = simulate_stamps(6, seed=1)
    >>> cut.stamps.shape, cut.stamps.dtype, cut.rgb.shape
    ((6, 3, 50, 50), dtype('float32'), (6, 50, 50, 3))
    >>> sorted(cut.labels.tolist())
    ['galaxy', 'galaxy', 'quasar', 'quasar', 'star', 'star']
    >>> bool((cut.truth["r_mag"].between(14, 22)).all())
    True
    >>> cut.meta["units"], cut.meta["source"]
    ('nanomaggy', 'simulation')
    """
    if int(n) != n or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    n = int(n)
    classes, fractions, bands = _check_args(
        classes, class_fractions, bands, size, pixel_scale, seeing_median, r_range, psf
    )
    if not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int (randomness is an argument), got {seed!r}")
    size = int(size)
    galsim = _galsim()

    rng_params, rng_noise, rng_cr = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)
    )
    rng = rng_params

    # ---- main sources
    labels = np.repeat(np.array(classes), _class_counts(n, fractions))
    labels = labels[rng.permutation(n)]
    r_mag = rng.uniform(r_range[0], r_range[1], n)
    src = _sources(labels, r_mag, rng)
    fwhm_r = np.clip(seeing_median * np.exp(rng.normal(0.0, SEEING_SCATTER, n)), *SEEING_LIMITS)
    fwhm = {
        b: fwhm_r * (SDSS_BANDS[b].wavelength / SDSS_BANDS["r"].wavelength) ** -0.2 for b in bands
    }
    offsets = rng.uniform(-0.5, 0.5, (n, 2))  # (x, y) pixels
    ra = rng.uniform(0.0, 360.0, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))

    # ---- neighbours: fainter sources around the main one
    n_nb = rng.poisson(NEIGHBOUR_MEAN, n) if neighbours else np.zeros(n, dtype=int)
    n_nb[labels == "blank"] = 0  # blank stamps stay sky only
    owner = np.repeat(np.arange(n), n_nb)
    nb_kind = np.where(rng.random(len(owner)) < 0.6, "galaxy", "star")
    nb_r = r_mag[owner] + rng.uniform(0.5, 3.0, len(owner))
    nb_src = _sources(nb_kind, nb_r, rng)
    r_out = size / 2 - 2.0
    r_in = min(5.0, r_out / 2)  # small stamps: keep neighbours off the centre all the same
    radius = np.sqrt(rng.uniform(r_in**2, r_out**2, len(owner)))
    phi = rng.uniform(0.0, 2 * math.pi, len(owner))
    nb_xy = np.column_stack([radius * np.cos(phi), radius * np.sin(phi)])
    nb_start = np.concatenate([[0], np.cumsum(n_nb)])

    fluxes = {b: _band_fluxes(src, r_mag, labels, b) for b in bands}
    nb_fluxes = {b: _band_fluxes(nb_src, nb_r, nb_kind, b) for b in bands}

    # ---- noiseless model, one GalSim draw per stamp and band
    stamps = np.zeros((n, len(bands), size, size), dtype=np.float32)
    for k in progress_bar(range(n), total=n, desc="simulating stamps", enabled=progress):
        if labels[k] == "blank":  # sky only
            continue
        main = _profile(galsim, k, src)
        nbs = [(j, _profile(galsim, j, nb_src)) for j in range(nb_start[k], nb_start[k + 1])]
        for ib, b in enumerate(bands):
            psf_b = _PSFS[psf](galsim, float(fwhm[b][k]))
            parts = [_band_profile(galsim, psf_b, main, fluxes[b], k, offsets[k] * pixel_scale)]
            parts += [
                _band_profile(galsim, psf_b, prof, nb_fluxes[b], j, nb_xy[j] * pixel_scale)
                for j, prof in nbs
            ]
            image = galsim.Image(stamps[k, ib], scale=pixel_scale)
            galsim.Add(parts).drawImage(image=image)  # origin at the true centre

    # ---- noise, in electrons, chunk by chunk
    n_cr = np.zeros(n, dtype=int)
    for ib, b in enumerate(bands):
        model = SDSS_BANDS[b]
        e_per_nmgy = model.electrons_per_nmgy
        sky_e = model.sky_electrons(pixel_scale)
        for lo in range(0, n, _CHUNK):
            block = stamps[lo : lo + _CHUNK, ib]
            if noise:
                electrons = np.clip(block.astype(np.float64) * e_per_nmgy, 0.0, None) + sky_e
                counts = rng_noise.poisson(electrons).astype(np.float64)
                counts += rng_noise.normal(0.0, model.read_noise, counts.shape)
                block[...] = (counts - sky_e) / e_per_nmgy
        if cosmic_rays:
            for k in range(n):
                n_cr[k] += _cosmic_rays(stamps[k, ib], rng_cr, e_per_nmgy, size)

    stamps.setflags(write=False)  # Cutouts keeps read-only arrays; this spares it a copy
    rgb = None
    if set(RGB_BANDS) <= set(bands):
        rgb = np.empty((n, size, size, 3), dtype=np.uint8)
        for lo in range(0, n, _CHUNK):
            block = stamps[lo : lo + _CHUNK]
            rgb[lo : lo + _CHUNK] = lupton_rgb(*(block[:, bands.index(b)] for b in RGB_BANDS))
        rgb.setflags(write=False)

    # ---- truth
    ids = np.array([f"sim{seed}-{k:06d}" for k in range(n)])
    point = src["hlr_disk"] <= 0
    flux_or_nan = {b: np.where(labels == "blank", np.nan, fluxes[b][0]) for b in bands}
    bt = src["bulge_fraction"]
    truth = pd.DataFrame(
        {
            "id": ids,
            "label": labels,
            "r_mag": np.where(labels == "blank", np.nan, r_mag),
            **{f"mag_{b}": 22.5 - 2.5 * np.log10(flux_or_nan[b]) for b in bands},
            "g_r": src["g_r"],
            "r_i": src["r_i"],
            "seeing": fwhm_r,
            **{f"seeing_{b}": fwhm[b] for b in bands},
            "redshift": src["redshift"],
            "alpha_nu": src["alpha_nu"],
            "half_light_radius": np.where(
                point, 0.0, bt * src["hlr_bulge"] + (1 - bt) * src["hlr_disk"]
            ),
            "hlr_disk": src["hlr_disk"],
            "hlr_bulge": src["hlr_bulge"],
            "bulge_fraction": bt,
            "ellipticity": (1 - src["q_disk"]) / (1 + src["q_disk"]),
            "position_angle": src["position_angle"],
            "x_offset": offsets[:, 0],
            "y_offset": offsets[:, 1],
            "n_neighbours": n_nb,
            "n_cosmic_rays": n_cr,
        }
    )
    meta = {
        "source": "simulation",
        "generator": "skyclass.images.simulate.simulate_stamps",
        "units": "nanomaggy",
        "sky_subtracted": True,
        "size": size,
        "seed": seed,
        "pixel_scale": pixel_scale,
        "seeing_median": seeing_median,
        "psf": psf,
        "r_range": list(r_range),
        "classes": list(classes),
        "class_fractions": [float(f) for f in fractions],
        "neighbours": neighbours,
        "cosmic_rays": cosmic_rays,
        "noise": noise,
        "rgb": {"stretch": 0.5, "Q": 10.0, "minimum": 0.0} if rgb is not None else None,
    }
    # the real cutouts' flags (nothing at an edge, NaN or saturated here), plus the offsets
    # and what was added
    flags = Cutouts(ids=ids, ra=ra, dec=dec, bands=bands, stamps=stamps).flags
    flags["offset_x"], flags["offset_y"] = offsets[:, 0], offsets[:, 1]
    flags["max_offset"] = np.hypot(offsets[:, 0], offsets[:, 1])
    flags["n_neighbours"], flags["n_cosmic_rays"] = n_nb, n_cr
    return SimulatedCutouts(
        ids=ids,
        ra=ra,
        dec=dec,
        bands=bands,
        stamps=stamps,
        rgb=rgb,
        flags=flags,
        labels=labels,
        meta=meta,
        truth=truth,
    )
