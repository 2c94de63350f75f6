"""
Gaussian-process synthetic curves
=================================

kang2023 enlarges rare classes with synthetic curves drawn from a Gaussian
process fitted to a real prototype. :func:`~skyclass.augment.fit_gp_many` fits
a Matérn-5/2 process to each band of each prototype;
:func:`~skyclass.augment.synthesize` draws a curve at new random times from its
posterior, adds noise scaled to the prototype's errors and shifts every time by
a random fraction of the period. The process models the curve in time, so it
follows a prototype whose variations the cadence resolves: here a simulated ZTF-like
long-period variable seeded by an OGLE-III row, the largest in amplitude of 20.
"""

import matplotlib.pyplot as plt
import numpy as np

from skyclass.augment import fit_gp_many, synthesize
from skyclass.datasets import simulate_from_catalogue

curves = simulate_from_catalogue(
    n_per_class=20, classes=["LPV"], n_epochs=300, cadence="ztf", seed=3
)
best = int(curves.objects["true_amplitude"].to_numpy().argmax())  # the clearest of 20
period = float(curves.objects["period"].iloc[best])
prototype = curves[best].replace(meta={"period": period})
fit = fit_gp_many([prototype])[0]
print(f"period {period:.1f} d; GP fit converged: {fit.success}; {fit.params()}")

rng = np.random.default_rng(0)
synthetic = [synthesize(prototype, fit, rng=rng, index=k) for k in range(3)]

# %%
# Each synthetic curve (green) drawn over its prototype (grey), its random
# time shift taken back so that the two line up.

fig, axes = plt.subplots(1, 4, figsize=(13, 3.4), layout="constrained", sharey=True)
axes[0].errorbar(prototype.time, prototype.mag, prototype.err, fmt=".", ms=3, lw=0.4, color="k")
axes[0].set_title(f"prototype {prototype.id}")
for ax, lc in zip(axes[1:], synthetic, strict=True):
    ax.plot(prototype.time, prototype.mag, ".", ms=2, color="0.75")
    shift = lc.meta["gp_time_shift"]
    ax.errorbar(lc.time - shift, lc.mag, lc.err, fmt=".", ms=3, lw=0.4, color="C2")
    ax.set_title(f"{lc.id}, shifted {shift:.0f} d")
for ax in axes:
    ax.set_xlabel("time [MJD]")
axes[0].set_ylabel(f"{prototype.bands[0]} [mag]")
axes[0].invert_yaxis()
plt.show()
