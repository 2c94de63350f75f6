"""
Folded multi-band curve and its Fourier fit
===========================================

A MACHO RR Lyrae folded on the period that :func:`~skyclass.preprocess.find_period`
finds in its two bands, after :class:`~skyclass.preprocess.Cleaner` has removed
epochs with large errors and outliers from a SuperSmoother fit of the folded
curve. Each band carries the Fourier series :func:`~skyclass.preprocess.fit_fourier`
fits to it (harmonics chosen by BIC; OGLE's cosine convention, so ``R21`` and
``phi21`` compare with catalogue values).
"""

import matplotlib.pyplot as plt
import numpy as np

from skyclass.datasets import load_macho
from skyclass.preprocess import Cleaner, find_period, fit_fourier, phase_of

raw = load_macho()["lc_1.4652.1527"]
period = find_period(raw).period
lc = Cleaner().transform(raw, period=period)
print(f"P = {period:.6f} d; {len(raw)} epochs, {len(lc)} after cleaning")

# %%
# Two cycles of each band (MACHO's instrumental magnitudes), with the fitted series.

fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
grid = np.linspace(0, 2, 400)
colors = {"B": "C0", "R": "C3"}
for ax, band in zip(axes, sorted(lc.bands), strict=True):
    one = lc.select_band(band)
    fit = fit_fourier(one, period)
    print(
        f"{band}: K={fit.n_harmonics} harmonics, A={fit.peak_to_peak:.3f} mag, "
        f"R21={fit.R21:.3f} ± {fit.R21_err:.3f}, phi21={fit.phi21:.3f}"
    )
    phase = phase_of(one.time, period, epoch=fit.epoch)
    for cycle in (0, 1):
        ax.plot(phase + cycle, one.mag, ".", ms=2, color=colors[band], alpha=0.3)
    ax.plot(grid, fit(fit.epoch + grid * period), color="k", lw=1.5)
    ax.invert_yaxis()
    ax.set(
        xlabel="phase",
        ylabel=f"{band} [instrumental mag]",
        title=f"{band}: K={fit.n_harmonics}, R21={fit.R21:.2f}, φ21={fit.phi21:.2f}",
    )
fig.suptitle(f"{lc.id} folded on P = {period:.5f} d")
plt.show()
