"""
Folded multi-band curve and its Fourier fit
===========================================

A MACHO curve folded on the period that :func:`~skyclass.preprocess.find_period`
finds, each band with the Fourier series :func:`~skyclass.preprocess.fit_fourier`
fits to it (harmonics chosen by BIC; OGLE's cosine convention, so ``R21`` and
``phi21`` compare with catalogue values).
"""

import matplotlib.pyplot as plt
import numpy as np

from skyclass.datasets import load_macho
from skyclass.preprocess import find_period, fit_fourier, phase_of

lc = load_macho()["lc_1.4652.1527"]
period = find_period(lc).period

fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
grid = np.linspace(0, 2, 400)
for color, band in zip(("C0", "C3"), lc.bands, strict=False):
    one = lc.select_band(band)
    fit = fit_fourier(one, period)
    print(
        f"{band}: K={fit.n_harmonics} harmonics, A={fit.peak_to_peak:.3f} mag, "
        f"R21={fit.R21:.3f} ± {fit.R21_err:.3f}, phi21={fit.phi21:.3f}"
    )
    phase = phase_of(one.time, period, epoch=fit.epoch)
    for cycle in (0, 1):
        ax.errorbar(phase + cycle, one.mag, one.err, fmt=".", ms=2, lw=0.3, color=color, alpha=0.35)
    ax.plot(
        grid,
        fit(fit.epoch + grid * period),
        color=color,
        lw=1.8,
        label=f"{band}, K={fit.n_harmonics}",
    )
ax.invert_yaxis()
ax.set_xlabel("phase")
ax.set_ylabel("magnitude")
ax.set_title(f"{lc.id} folded on P = {period:.5f} d")
ax.legend()
plt.show()
