"""
Four representations of one curve
=================================

What a network sees of one MACHO RR Lyrae, cleaned by
:class:`~skyclass.preprocess.Cleaner` (error cut, SuperSmoother and outlier
clipping) and computed from that curve alone by :mod:`skyclass.represent`:
the epoch sequence of kang2023's recurrent net (time steps, standardised
magnitude, error, band), the folded curve resampled to a fixed phase grid in
each band (akhmetali2025, foldnet), the per-curve
dm–dt histogram (Mahabal et al. 2017, carraro2025's bins) and the folded-curve
raster of kang2023's compound net.
"""

import matplotlib.pyplot as plt
import numpy as np

from skyclass.datasets import load_macho
from skyclass.preprocess import Cleaner, find_period
from skyclass.represent import DmDt, EpochSequence, FoldedGrid, FoldedImage

raw = load_macho()["lc_1.4652.1527"]
period = find_period(raw).period
lc = Cleaner().transform(raw, period=period).replace(meta={"period": period})
print(f"{len(raw)} epochs, {len(lc)} after cleaning:", lc.meta["cleaning"])

sequence = EpochSequence(band_order=("B", "R"), max_len=400).transform(lc)
grid = FoldedGrid(n=128, bands=("B", "R"), method="bin", normalize="standard").transform(lc)
dmdt = DmDt(bands=("R",)).transform(lc)
image = FoldedImage(band="R").transform(lc)
for name, arrays in [("sequence", sequence), ("grid", grid), ("dmdt", dmdt), ("image", image)]:
    print(name, {key: value.shape for key, value in arrays.items()})

# %%
# Each array has a fixed shape whatever the number of epochs, so curves stack
# into batches; masks mark padding and empty phase bins.

fig, axes = plt.subplots(1, 4, figsize=(13, 3.4), layout="constrained")
seq, real = sequence["seq"], sequence["mask"] > 0
time = np.cumsum(seq[:, 0])
for column, (band, color) in enumerate([("B", "C0"), ("R", "C3")], start=3):
    rows = real & (seq[:, column] > 0)
    axes[0].plot(time[rows], seq[rows, 1], ".", ms=2, color=color, label=band)
axes[0].invert_yaxis()
axes[0].set(title="sequence (Δt, mag, err, band)", xlabel="Σ Δt", ylabel="standardised mag")
axes[0].legend(markerscale=4)

phase = (np.arange(128) + 0.5) / 128
for row, (band, color) in enumerate([("B", "C0"), ("R", "C3")]):
    axes[1].plot(phase, grid["grid"][row], color=color, label=band)
axes[1].invert_yaxis()
axes[1].set(title="folded grid, 128 phase bins", xlabel="phase", ylabel="standardised mag")
axes[1].legend()

axes[2].imshow(dmdt["dmdt"][0], origin="lower", aspect="auto", cmap="magma")
axes[2].set(title="dm–dt histogram (R)", xlabel="Δt bin", ylabel="Δm bin")

axes[3].imshow(image["folded_image"][0], origin="upper", cmap="gray_r")
axes[3].set(title="folded image (R), 128×128", xticks=[], yticks=[])
plt.show()
