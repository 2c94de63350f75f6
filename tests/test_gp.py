"""GP augmentation: fits against known truth and george, synthetic curves, degenerate inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from skyclass.augment.gp import (
    GPAugmenter,
    GPConfig,
    fit_gp,
    fit_gp_many,
    gp_log_likelihood,
    matern52,
    synthesize,
    synthesize_many,
)
from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve


def simulate(n, sigma_f, ell, noise, seed, span=100.0, band="V", id="sim", errors=True):
    """A curve drawn from a known Matérn-5/2 GP plus white noise."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, span, n))
    cov = matern52(t[:, None] - t[None, :], sigma_f, ell) + 1e-10 * np.eye(n)
    f = np.linalg.cholesky(cov) @ rng.standard_normal(n)
    mag = 15.0 + f + noise * rng.standard_normal(n)
    err = np.full(n, noise) if errors else np.full(n, np.nan)
    return LightCurve(time=t, mag=mag, err=err, band=band, id=id)


def test_kalman_equals_dense_and_george():
    lc = simulate(60, 0.4, 7.0, 0.05, seed=1)
    y = lc.mag - 15.0
    for sf, ell, jit in [(0.4, 7.0, 0.0), (1.3, 0.05, 0.02), (0.1, 500.0, 0.1)]:
        dense = gp_log_likelihood(
            lc.time, lc.mag, lc.err, sigma_f=sf, length_scale=ell, jitter=jit, mean=15.0
        )
        direct = _numpy_loglike(lc.time, y, lc.err**2 + jit**2, sf, ell)
        kalman = gp_log_likelihood(
            lc.time,
            lc.mag,
            lc.err,
            sigma_f=sf,
            length_scale=ell,
            jitter=jit,
            mean=15.0,
            method="kalman",
        )
        assert dense == pytest.approx(direct, abs=1e-8)
        assert kalman == pytest.approx(dense, abs=1e-6)
    with pytest.raises(ValueError, match="'dense', 'kalman'"):
        gp_log_likelihood(lc.time, lc.mag, lc.err, sigma_f=0.4, length_scale=7.0, method="fast")
    george = pytest.importorskip("george")
    gp = george.GP(0.4**2 * george.kernels.Matern52Kernel(7.0**2))
    gp.compute(lc.time, lc.err)
    ours = gp_log_likelihood(lc.time, lc.mag, lc.err, sigma_f=0.4, length_scale=7.0, mean=15.0)
    assert ours == pytest.approx(gp.log_likelihood(y), abs=1e-6)


def _numpy_loglike(t, y, var, sf, ell):
    """Textbook formula with an explicit inverse and determinant (independent of our code)."""
    r = np.abs(t[:, None] - t[None, :])
    k = sf**2 * (1 + math.sqrt(5) * r / ell + 5 * r**2 / (3 * ell**2))
    k = k * np.exp(-math.sqrt(5) * r / ell) + np.diag(var)
    _, logdet = np.linalg.slogdet(k)
    return float(
        -0.5 * y @ np.linalg.inv(k) @ y - 0.5 * logdet - 0.5 * len(t) * math.log(2 * np.pi)
    )


def test_fit_recovers_known_hyperparameters():
    sigma_f, ell = 0.5, 5.0
    curves = [simulate(150, sigma_f, ell, 0.05, seed=s, id=str(s)) for s in range(4)]
    fits = fit_gp_many(curves)
    for fit in fits:
        gp = fit["V"]
        assert fit.success, fit.reason
        assert sigma_f / 2 < gp.sigma_f < sigma_f * 2
        assert ell / 2 < gp.length_scale < ell * 2


def test_fit_is_the_maximum_of_the_likelihood():
    lc = simulate(80, 0.3, 3.0, 0.05, seed=7)
    gp = fit_gp(lc)["V"]
    best = gp_log_likelihood(
        lc.time, lc.mag, lc.err, sigma_f=gp.sigma_f, length_scale=gp.length_scale
    )
    assert gp.log_likelihood == pytest.approx(best, abs=1e-6)
    for dsf, dell in [(1.05, 1), (0.95, 1), (1, 1.05), (1, 0.95)]:
        other = gp_log_likelihood(
            lc.time,
            lc.mag,
            lc.err,
            sigma_f=gp.sigma_f * dsf,
            length_scale=gp.length_scale * dell,
        )
        assert other < best


def test_fit_matches_george_optimum():
    george = pytest.importorskip("george")
    from scipy.optimize import minimize

    lc = simulate(70, 0.3, 4.0, 0.05, seed=11)
    y = lc.mag - gp_mean(lc)
    gp = george.GP(1.0 * george.kernels.Matern52Kernel(1.0))
    gp.compute(lc.time, lc.err)

    def nll(p):
        gp.set_parameter_vector(p)
        return -gp.log_likelihood(y)

    def grad(p):
        gp.set_parameter_vector(p)
        return -gp.grad_log_likelihood(y)

    starts = [np.array([2 * math.log(np.std(lc.mag)), 2 * math.log(e)]) for e in (1, 10, 50)]
    res = min((minimize(nll, s, jac=grad, method="L-BFGS-B") for s in starts), key=lambda r: r.fun)
    assert fit_gp(lc).log_likelihood >= -res.fun - 0.01


def gp_mean(lc):
    w = 1 / lc.err**2
    return float(np.sum(w * lc.mag) / np.sum(w))


def test_batch_equals_single():
    curves = [simulate(n, 0.3, 4.0, 0.05, seed=n, id=f"c{n}") for n in (20, 57, 90)]
    many = fit_gp_many(curves)
    for lc, fit in zip(curves, many, strict=True):
        alone = fit_gp(lc)
        assert fit.id == lc.id
        assert fit["V"].sigma_f == pytest.approx(alone["V"].sigma_f, rel=1e-6)
        assert fit["V"].length_scale == pytest.approx(alone["V"].length_scale, rel=1e-6)
        assert fit.log_likelihood == pytest.approx(alone.log_likelihood, abs=1e-8)


def test_no_errors_fits_jitter():
    lc = simulate(100, 0.5, 5.0, 0.1, seed=3, errors=False)
    gp = fit_gp(lc)["V"]
    assert gp.fallback is None
    assert 0.05 < gp.jitter < 0.2
    assert gp.noise == gp.jitter


@pytest.fixture(scope="module")
def proto():
    lc = simulate(40, 0.4, 6.0, 0.05, seed=5, id="p")
    return lc.replace(meta={"label": "RR"})


@pytest.fixture(scope="module")
def proto_fit(proto):
    return fit_gp(proto)


def test_synthetic_is_not_the_prototype(proto, proto_fit):
    before = (proto.time.copy(), proto.mag.copy(), proto.err.copy())
    s = synthesize(proto, proto_fit, rng=0)
    assert s is not proto
    assert len(s) == len(proto)
    assert not np.array_equal(s.time, proto.time)
    assert not np.array_equal(s.mag, proto.mag)
    assert s.id == "p~gp0"
    assert s.meta["synthetic"] is True and s.meta["prototype"] == "p"
    assert s.meta["label"] == "RR"
    assert s.meta["gp_params"]["V"]["length_scale"] == proto_fit["V"].length_scale
    assert "synthetic" not in proto.meta
    for a, b in zip(before, (proto.time, proto.mag, proto.err), strict=True):
        np.testing.assert_array_equal(a, b)


def test_synthetic_errors_and_times(proto, proto_fit):
    for seed in range(5):
        s = synthesize(proto, proto_fit, rng=seed)
        assert s.err.mean() == pytest.approx(proto.err.mean(), abs=1e-9)
        assert np.std(s.err) > 0  # shaped by the posterior σ, not a constant
        unshifted = s.time - s.meta["gp_time_shift"]
        assert unshifted.min() >= proto.time[0] - 1e-9
        assert unshifted.max() <= proto.time[-1] + 1e-9
        assert np.all(np.diff(s.time) >= 0)


def test_phase_shift_uses_the_period(proto, proto_fit):
    lc = proto.replace(meta={"period": 2.0})
    s = synthesize(lc, proto_fit, rng=1)
    assert 0 <= s.meta["gp_phase_shift"] < 1
    assert s.meta["gp_time_shift"] == pytest.approx(2.0 * s.meta["gp_phase_shift"])
    off = synthesize(proto, proto_fit, rng=1, config=GPConfig(phase_shift=False))
    assert off.meta["gp_time_shift"] == 0.0
    assert off.time.min() >= proto.time[0] and off.time.max() <= proto.time[-1]


def test_residuals_have_zero_mean(proto, proto_fit):
    """Synthetic magnitudes scatter symmetrically about the posterior mean (not all above it)."""
    from skyclass.augment.gp import gp_posterior

    gp = proto_fit["V"]
    rng = np.random.default_rng(42)
    cfg = GPConfig(phase_shift=False)
    residuals = []
    for _ in range(300):
        s = synthesize(proto, proto_fit, rng=rng, config=cfg)
        mu, _ = gp_posterior(proto.time, proto.mag - gp.mean, proto.err**2, s.time, gp)
        residuals.append(s.mag - (mu + gp.mean))
    r = np.concatenate(residuals)
    per_curve = np.array([x.mean() for x in residuals])  # draws within a curve correlate
    assert abs(per_curve.mean()) < 3 * per_curve.std(ddof=1) / math.sqrt(per_curve.size)
    assert 0.4 < (r > 0).mean() < 0.6


def test_reproducible(proto, proto_fit):
    a = synthesize_many([proto], [proto_fit], n_per_curve=3, rng=7)
    b = synthesize_many([proto], [proto_fit], n_per_curve=3, rng=7)
    c = synthesize_many([proto], [proto_fit], n_per_curve=3, rng=8)
    assert [s.id for s in a] == ["p~gp0", "p~gp1", "p~gp2"]
    for x, y, z in zip(a, b, c, strict=True):
        np.testing.assert_array_equal(x.time, y.time)
        np.testing.assert_array_equal(x.mag, y.mag)
        assert not np.array_equal(x.mag, z.mag)
    assert not np.array_equal(a[0].mag, a[1].mag)
    with pytest.raises(TypeError, match="rng"):
        synthesize(proto, proto_fit, rng=None)


def test_multiband_keeps_bands_and_counts():
    g = simulate(30, 0.3, 5.0, 0.03, seed=1, band="B")
    r = simulate(45, 0.3, 5.0, 0.05, seed=2, band="R")
    order = np.lexsort((np.r_[g.band, r.band], np.r_[g.time, r.time]))
    lc = LightCurve(
        time=np.r_[g.time, r.time][order],
        mag=np.r_[g.mag, r.mag][order],
        err=np.r_[g.err, r.err][order],
        band=np.r_[g.band, r.band][order],
        id="mb",
    )
    fit = fit_gp(lc)
    assert [b.band for b in fit.bands] == ["B", "R"] or [b.band for b in fit.bands] == ["R", "B"]
    s = synthesize(lc, fit, rng=0)
    for band, proto_band in (("B", g), ("R", r)):
        sb = s.select_band(band)
        assert len(sb) == len(proto_band)
        assert sb.err.mean() == pytest.approx(proto_band.err.mean(), abs=1e-9)


def test_no_error_prototype_synthetic_has_no_errors():
    lc = simulate(50, 0.5, 5.0, 0.1, seed=9, errors=False)
    fit = fit_gp(lc)
    s = synthesize(lc, fit, rng=0)
    assert not s.has_errors
    assert len(s) == len(lc)


def test_two_points_fall_back():
    lc = LightCurve(time=[0.0, 1.0], mag=[10.0, 10.5], err=[0.1, 0.1], band="V", id="two")
    fit = fit_gp(lc)
    assert not fit.success and "too few points" in fit.reason
    s = synthesize(lc, fit, rng=0)
    assert "too few points" in s.meta["gp_fallback"]["V"]
    assert len(s) == 2 and not np.array_equal(s.time, lc.time)
    assert s.err.mean() == pytest.approx(0.1, abs=1e-12)


def test_constant_magnitudes_fall_back():
    t = np.linspace(0, 10, 20)
    lc = LightCurve(time=t, mag=np.full(20, 12.0), err=np.full(20, 0.02), band="V", id="c")
    fit = fit_gp(lc)
    assert fit["V"].fallback == "constant magnitudes (zero variance)"
    s = synthesize(lc, fit, rng=3)
    assert np.std(s.mag) > 0  # noise of the prototype's error level
    assert s.err.mean() == pytest.approx(0.02, abs=1e-12)
    flat = LightCurve(time=t, mag=np.full(20, 12.0), err=np.full(20, np.nan), band="V", id="z")
    sz = synthesize(flat, fit_gp(flat), rng=3)
    np.testing.assert_array_equal(sz.mag, 12.0)  # no errors, no variance: nothing to add


def test_mismatched_inputs_raise(proto, proto_fit):
    other = proto.replace(id="q")
    with pytest.raises(DataError, match="fit is for object"):
        synthesize(other, proto_fit, rng=0)
    with pytest.raises(DataError, match="one fit per curve"):
        synthesize_many([proto, other], [proto_fit], n_per_curve=1, rng=0)
    with pytest.raises(DataError, match="not a LightCurve"):
        fit_gp_many([proto.time])


def test_augmenter(proto):
    aug = GPAugmenter(restarts=2, phase_shift=False)
    with pytest.raises(RuntimeError, match="not fitted"):
        aug.sample(1, rng=0)
    aug.fit([proto])
    out = aug.sample(4, rng=0)
    assert [s.id for s in out] == [f"p~gp{k}" for k in range(4)]
    assert aug.config_.restarts == 2
    assert aug.summary()["fallback"] == 0
