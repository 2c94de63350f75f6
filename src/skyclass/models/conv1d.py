"""One-dimensional convolutional models: akhmetali2025, carraro2025 (CNN-LSTM), monti2024.

* ``akhmetali2025_cnn`` and ``carraro2025_cnn_lstm`` read a folded curve on a
  fixed phase grid, ``grid`` (B, bands, N) from
  :class:`~skyclass.represent.grid.FoldedGrid` /
  :class:`~skyclass.represent.grid.HarmonicGrid`; they are classifiers.
* ``monti2024_fcn``, ``monti2024_resnet``, ``monti2024_inception``,
  ``monti2024_convlstm`` and ``monti2024_convgru`` read an epoch sequence,
  ``seq`` (B, L, C) with ``mask`` (B, L), from
  :class:`~skyclass.represent.sequence.PhaseSequence`; the paper uses them as
  [Fe/H] regressors with a linear output, and the same network serves as a
  classifier (the head is linear either way: logits or regression columns).

Masking (monti2024 models)
--------------------------
Every tensor passed from layer to layer is zero on padded steps, batch
normalisation takes its statistics over real steps only
(:class:`MaskedBatchNorm1d`), max pooling treats padded steps as ``-inf``, and the
global average pooling averages real steps only. A 'same'-padded convolution pads
with zeros, so for *trailing* padding (what ``PhaseSequence`` produces) the
output equals the output of the unpadded curve, whatever the padded values
are. A masked step *inside* a sequence is read as a zero (the convolutions see
zeros there, not a shorter sequence). The ConvLSTM/ConvGRU read their recurrent
output at the last real (pooled) step, which again assumes trailing padding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

import torch
from torch import nn
from torch.nn import functional as F

from skyclass.models.registry import register_model

__all__ = [
    "MaskedBatchNorm1d",
    "akhmetali2025_cnn",
    "carraro2025_cnn_lstm",
    "monti2024_convgru",
    "monti2024_convlstm",
    "monti2024_fcn",
    "monti2024_inception",
    "monti2024_resnet",
]

MONTI2024 = (
    "Monti et al. (2024), Deep learning for the photometric metallicity of RR Lyrae "
    "stars from Gaia DR3 G-band light curves"
)
AKHMETALI2025 = "Akhmetali et al. (2025), CNN classification of ASAS-SN variable-star light curves"
CARRARO2025 = "Carraro (2025), thesis: LSTM and 2D-CNN classification of ZTF variable stars"


# --------------------------------------------------------------------- checks
def _positive_int(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _int_tuple(name: str, values: Sequence[int], size: int | None = None) -> tuple[int, ...]:
    out = tuple(values)
    if not out or (size is not None and len(out) != size):
        want = f"{size} " if size is not None else ""
        raise ValueError(f"{name} must list {want}positive integers, got {values!r}")
    for v in out:
        _positive_int(name, v)
    return out


def _count(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def _rate(name: str, value: float) -> float:
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return float(value)


def _check_input(key: str, x: torch.Tensor, expected: tuple[int, ...]) -> None:
    if tuple(x.shape[1:]) != expected:
        raise ValueError(
            f"batch[{key!r}] has shape {tuple(x.shape)}; this model was built for "
            f"(B, {', '.join(map(str, expected))}) (set its options to match the representation)"
        )


# ------------------------------------------------------------- masked pieces
class MaskedBatchNorm1d(nn.BatchNorm1d):
    """``BatchNorm1d`` over (B, C, L) whose training statistics use real steps only.

    ``forward(x, mask)`` with ``mask`` (B, 1, L) of 0/1; ``mask=None`` is plain
    batch normalisation. Running statistics are updated as ``BatchNorm1d`` does
    (unbiased variance), and padded steps of the output are zero.
    """

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        if mask is None:
            return super().forward(x)
        if self.training:
            n = mask.sum(dim=(0, 2)).clamp(min=1.0)  # (1,) broadcast over channels
            mean = (x * mask).sum(dim=(0, 2)) / n
            var = (((x - mean[None, :, None]) * mask) ** 2).sum(dim=(0, 2)) / n
            if self.track_running_stats and self.running_mean is not None:
                with torch.no_grad():
                    self.num_batches_tracked.add_(1)  # type: ignore[union-attr]
                    m = self.momentum if self.momentum is not None else 0.1
                    unbiased = var * n / (n - 1).clamp(min=1.0)
                    self.running_mean.mul_(1 - m).add_(m * mean)
                    self.running_var.mul_(1 - m).add_(m * unbiased)  # type: ignore[union-attr]
        else:
            mean, var = self.running_mean, self.running_var  # type: ignore[assignment]
        y = (x - mean[None, :, None]) / torch.sqrt(var[None, :, None] + self.eps)
        if self.affine:
            y = y * self.weight[None, :, None] + self.bias[None, :, None]
        return y * mask


class _SameConv1d(nn.Conv1d):
    """Stride-1 ``Conv1d`` with Keras 'same' zero padding (even kernels: one more on the right)."""

    def __init__(self, cin: int, cout: int, kernel: int, *, bias: bool = True) -> None:
        super().__init__(cin, cout, kernel, bias=bias)
        self.pads = ((kernel - 1) // 2, kernel - 1 - (kernel - 1) // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self.pads))


class _ConvUnit(nn.Module):
    """Conv1d ('same') → masked BatchNorm → ReLU (optional), zero on padded steps."""

    def __init__(self, cin: int, cout: int, kernel: int, *, relu: bool = True) -> None:
        super().__init__()
        self.conv = _SameConv1d(cin, cout, kernel)
        self.bn = MaskedBatchNorm1d(cout)
        self.relu = relu

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        y = self.bn(self.conv(x), mask)
        return F.relu(y) * mask if self.relu else y


def _seq_input(batch: dict[str, torch.Tensor], channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``seq`` as (B, C, L) zero on padded steps, and the mask as (B, 1, L) floats."""
    seq = batch["seq"]
    if seq.ndim != 3 or seq.shape[-1] != channels:
        raise ValueError(
            f"batch['seq'] has shape {tuple(seq.shape)}; this model was built for "
            f"(B, L, {channels}) (set seq_channels to match the representation)"
        )
    mask = batch.get("mask")
    if mask is None:
        mask = torch.ones(seq.shape[:2], dtype=seq.dtype, device=seq.device)
    m = (mask > 0).to(seq.dtype).unsqueeze(1)
    x = torch.where(m > 0, seq.transpose(1, 2), torch.zeros((), dtype=seq.dtype))
    return x, m


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Global average pooling over real steps: (B, C, L) → (B, C)."""
    return (x * mask).sum(dim=-1) / mask.sum(dim=-1).clamp(min=1.0)


# ============================================================ akhmetali2025
class Akhmetali2025CNN(nn.Module):
    """Four Conv1D–ReLU–BN–MaxPool blocks, flatten, dense 128, linear output."""

    def __init__(
        self,
        *,
        num_outputs: int,
        in_channels: int,
        length: int,
        filters: tuple[int, ...],
        kernel_size: int,
        hidden: int,
        conv_dropout: float,
        dense_dropout: float,
        num_features: int = 0,
    ) -> None:
        super().__init__()
        self.in_channels, self.length, self.num_features = in_channels, length, num_features
        # side inputs are read only when the model was built for them
        self.input_keys = ("grid", "features", "features_mask") if num_features else ("grid",)
        layers: list[nn.Module] = []
        cin, n = in_channels, length
        for i, cout in enumerate(filters):
            if i == len(filters) - 1:
                layers.append(nn.Dropout(conv_dropout))  # "before the final block"
            layers += [
                _SameConv1d(cin, cout, kernel_size),
                nn.ReLU(),
                nn.BatchNorm1d(cout),
                nn.MaxPool1d(2),
            ]
            cin, n = cout, n // 2
        if n < 1:
            raise ValueError(f"length {length} is too short for {len(filters)} poolings by 2")
        self.features = nn.Sequential(*layers)
        # the side features (values and their mask) join the flattened maps
        self.head = nn.Sequential(
            nn.Linear(cin * n + 2 * num_features, hidden),
            nn.ReLU(),
            nn.Dropout(dense_dropout),
            nn.Linear(hidden, num_outputs),
        )

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x = batch["grid"]
        _check_input("grid", x, (self.in_channels, self.length))
        maps = self.features(x).flatten(1)
        if not self.num_features:
            return self.head(maps)
        feats = batch["features"]
        _check_input("features", feats, (self.num_features,))
        mask = batch.get("features_mask", torch.ones_like(feats))
        return self.head(torch.cat([maps, feats * mask, mask], dim=1))


@register_model(
    "akhmetali2025_cnn",
    input_keys=("grid", "features", "features_mask"),
    paper=AKHMETALI2025,
    task="classification",
    inputs={"grid": {"n": 512}},
    shapes={"in_channels": ("grid", 1), "length": ("grid", 2), "num_features": ("features", 1)},
)
def akhmetali2025_cnn(
    *,
    num_outputs: int = 6,
    in_channels: int = 1,
    length: int = 512,
    filters: Sequence[int] = (128, 64, 32, 32),
    kernel_size: int = 3,
    hidden: int = 128,
    conv_dropout: float = 0.25,
    dense_dropout: float = 0.5,
    num_features: int = 0,
) -> nn.Module:
    """The 1D CNN of akhmetali2025 (section 3) on a folded, interpolated curve.

    Paper: four blocks of Conv1D (kernel 3, "same" padding, ReLU) → BatchNorm →
    MaxPool1D (2), with 128, 64, 32, 32 filters; a dropout layer before the last
    block; dense 128 (ReLU) followed by dropout; a 6-way softmax output. Input:
    the phase-folded curve interpolated to 512 points. Adam 1e-4, batch 16.

    Parameters
    ----------
    num_outputs : int
        Classes (the paper: 6). The output is logits; the softmax belongs to the loss.
    in_channels : int
        Rows (bands) of ``grid``; the paper uses one band (ASAS-SN g).
    length : int
        Grid points ``N`` of ``grid``; fixes the flattened size (the paper: 512).
    filters, kernel_size, hidden : int
        The paper's 128/64/32/32 filters, kernel 3 and dense 128.
    conv_dropout, dense_dropout : float
        Not given in the paper; we use 0.25 before the last block and 0.5 after
        the dense layer.
    num_features : int
        Side inputs (not in the paper; 0 reads the grid alone): the columns of a
        ``features`` input (with its ``features_mask``), joined to the flattened
        convolution maps before the dense layer. A grid with its mean removed
        (``normalize="center"``) plus the mean magnitudes as side features carries
        what the paper's raw-magnitude input does, at scales a network can learn from.

    Returns
    -------
    torch.nn.Module
        Maps ``{"grid": (B, in_channels, length)}`` to (B, num_outputs) (and reads
        ``features`` and ``features_mask`` (B, num_features) when ``num_features``).

    Examples
    --------
    >>> net = akhmetali2025_cnn(num_outputs=4, in_channels=2, length=64, num_features=2)
    >>> batch = {"grid": torch.zeros(3, 2, 64), "features": torch.zeros(3, 2)}
    >>> net.eval()(batch).shape
    torch.Size([3, 4])

    Notes
    -----
    With the defaults and 6 classes the network has 166,918 trainable parameters
    (BatchNorm scale and shift included, as Keras counts them); the paper reports
    166,662, 256 fewer — the size of one 128-channel BatchNorm's scale and shift.
    We keep the BatchNorm in every block, as the text describes.
    """
    return Akhmetali2025CNN(
        num_outputs=_positive_int("num_outputs", num_outputs),
        in_channels=_positive_int("in_channels", in_channels),
        length=_positive_int("length", length),
        filters=_int_tuple("filters", filters),
        kernel_size=_positive_int("kernel_size", kernel_size),
        hidden=_positive_int("hidden", hidden),
        conv_dropout=_rate("conv_dropout", conv_dropout),
        dense_dropout=_rate("dense_dropout", dense_dropout),
        num_features=_count("num_features", num_features),
    )


# ============================================================= carraro2025
class Carraro2025CNNLSTM(nn.Module):
    """Conv1D 64→128 → pool → 256→256 → pool → LSTM 64 → LSTM 128 → FC 1024 → 512."""

    def __init__(
        self,
        *,
        num_outputs: int,
        in_channels: int,
        length: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.in_channels, self.length = in_channels, length
        if length < 4:
            raise ValueError(f"length must be at least 4 (two poolings by 2), got {length}")
        self.conv = nn.Sequential(
            nn.Conv1d(in_channels, 64, 3, padding=1),
            nn.ReLU(),
            nn.Conv1d(64, 128, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool1d(2),
            nn.Conv1d(128, 256, 5, padding=2),
            nn.ReLU(),
            nn.Conv1d(256, 256, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool1d(2),
        )
        self.lstm1 = nn.LSTM(256, 64, batch_first=True)
        self.lstm2 = nn.LSTM(64, 128, batch_first=True)
        self.head = nn.Sequential(
            nn.Linear(128, 1024),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(1024, 512),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(512, num_outputs),
        )

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x = batch["grid"]
        _check_input("grid", x, (self.in_channels, self.length))
        h = self.conv(x).transpose(1, 2)  # (B, N/4, 256)
        h, _ = self.lstm1(h)
        h, _ = self.lstm2(h)
        return self.head(h[:, -1])


@register_model(
    "carraro2025_cnn_lstm",
    input_keys=("grid",),
    paper=CARRARO2025,
    task="classification",
    train={"lr": 2e-4},  # the thesis's Adam rate
    inputs={"grid": {"n": 360}},
    shapes={"in_channels": ("grid", 1), "length": ("grid", 2)},
)
def carraro2025_cnn_lstm(
    *,
    num_outputs: int = 5,
    in_channels: int = 1,
    length: int = 360,
    dropout: float = 0.0,
) -> nn.Module:
    """The CNN-LSTM of carraro2025 (section 3.2.1, Table 2) on a phase grid.

    Thesis: Conv1D 64 (kernel 3, padding 1) → Conv1D 128 (kernel 3, padding 1) →
    MaxPool1D 2 → Conv1D 256 (kernel 5, padding 2) → Conv1D 256 (kernel 5,
    padding 2) → MaxPool1D 2 → LSTM 64 → LSTM 128, output of the last time step →
    FC 1024 (ReLU) → FC 512 (ReLU) → linear output with softmax. Input: the
    harmonic reconstruction sampled at 360 phases
    (:class:`~skyclass.represent.grid.HarmonicGrid`). Adam 2e-4, 100 epochs.

    Parameters
    ----------
    num_outputs : int
        Classes (the thesis: 5 or 10). The output is logits.
    in_channels : int
        Rows (bands) of ``grid``.
    length : int
        Grid points ``N``; checked against the input (the thesis: 360).
    dropout : float
        The thesis names no dropout (0 by default); when set, applied after each
        hidden FC layer.

    Returns
    -------
    torch.nn.Module
        Maps ``{"grid": (B, in_channels, length)}`` to (B, num_outputs).

    Notes
    -----
    The thesis gives no activation for the convolutions; we use ReLU after each
    (as in Bassi et al. 2021, whose architecture it follows). PyTorch LSTM
    defaults (tanh, sigmoid gates) are used.
    """
    return Carraro2025CNNLSTM(
        num_outputs=_positive_int("num_outputs", num_outputs),
        in_channels=_positive_int("in_channels", in_channels),
        length=_positive_int("length", length),
        dropout=_rate("dropout", dropout),
    )


# ================================================================ monti2024
class MontiFCN(nn.Module):
    """Conv–BN–ReLU ×3 (128/256/128, kernels 8/5/3), masked GAP, linear output."""

    def __init__(
        self,
        *,
        num_outputs: int,
        in_channels: int,
        filters: tuple[int, ...],
        kernel_sizes: tuple[int, ...],
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        cins = (in_channels, *filters[:-1])
        self.units = nn.ModuleList(
            _ConvUnit(ci, co, k) for ci, co, k in zip(cins, filters, kernel_sizes, strict=True)
        )
        self.out = nn.Linear(filters[-1], num_outputs)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x, m = _seq_input(batch, self.in_channels)
        for unit in self.units:
            x = unit(x, m)
        return self.out(_masked_mean(x, m))


@register_model(
    "monti2024_fcn",
    input_keys=("seq", "mask"),
    paper=MONTI2024,
    task="both",
    inputs={"phase_sequence": {}},
    shapes={"seq_channels": ("seq", 2)},
)
def monti2024_fcn(
    *,
    num_outputs: int = 1,
    seq_channels: int = 2,
    filters: Sequence[int] = (128, 256, 128),
    kernel_sizes: Sequence[int] = (8, 5, 3),
) -> nn.Module:
    """The fully convolutional network of monti2024 (section 4.3.1, eq. 5).

    Paper: three units Conv1D → BatchNorm → ReLU with 128, 256 and 128 filters and
    kernels 8, 5 and 3, no striding; global average pooling; a dense layer with a
    linear activation. Input: the folded curve, channels ``(m − ⟨m⟩, phase·P)``.

    Parameters
    ----------
    num_outputs : int
        Regression targets (the paper: 1, [Fe/H]) or classes.
    seq_channels : int
        Channels ``C`` of ``seq`` (the paper: 2).
    filters, kernel_sizes : sequence of int
        Filters and kernel of each unit, same length.

    Returns
    -------
    torch.nn.Module
        Maps ``{"seq": (B, L, C), "mask": (B, L)}`` to (B, num_outputs).

    Notes
    -----
    'same' padding (the authors' code; even kernels pad 3 left, 4 right, as
    Keras). Masking as in the module docstring: trailing padding does not change
    the output.
    """
    f = _int_tuple("filters", filters)
    return MontiFCN(
        num_outputs=_positive_int("num_outputs", num_outputs),
        in_channels=_positive_int("seq_channels", seq_channels),
        filters=f,
        kernel_sizes=_int_tuple("kernel_sizes", kernel_sizes, len(f)),
    )


class _ResidualBlock(nn.Module):
    def __init__(self, cin: int, filters: int, kernel_sizes: tuple[int, ...]) -> None:
        super().__init__()
        cins = (cin,) + (filters,) * (len(kernel_sizes) - 1)
        self.units = nn.ModuleList(
            _ConvUnit(c, filters, k) for c, k in zip(cins, kernel_sizes, strict=True)
        )
        self.project = None
        if cin != filters:
            self.project = nn.Conv1d(cin, filters, 1)
            self.project_bn = MaskedBatchNorm1d(filters)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = x
        for unit in self.units:
            h = unit(h, mask)
        short = x if self.project is None else self.project_bn(self.project(x), mask)
        return F.relu(short + h) * mask


class MontiResNet(nn.Module):
    """Three residual blocks of three Conv–BN–ReLU units, masked GAP, linear output."""

    def __init__(
        self,
        *,
        num_outputs: int,
        in_channels: int,
        block_filters: tuple[int, ...],
        kernel_sizes: tuple[int, ...],
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        cins = (in_channels, *block_filters[:-1])
        self.blocks = nn.ModuleList(
            _ResidualBlock(c, f, kernel_sizes) for c, f in zip(cins, block_filters, strict=True)
        )
        self.out = nn.Linear(block_filters[-1], num_outputs)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x, m = _seq_input(batch, self.in_channels)
        for block in self.blocks:
            x = block(x, m)
        return self.out(_masked_mean(x, m))


@register_model(
    "monti2024_resnet",
    input_keys=("seq", "mask"),
    paper=MONTI2024,
    task="both",
    inputs={"phase_sequence": {}},
    shapes={"seq_channels": ("seq", 2)},
)
def monti2024_resnet(
    *,
    num_outputs: int = 1,
    seq_channels: int = 2,
    block_filters: Sequence[int] = (64, 64, 64),
    kernel_sizes: Sequence[int] = (8, 5, 3),
) -> nn.Module:
    """The residual network of monti2024 (section 4.3.3, eq. 6).

    Paper: each residual block is ``h0 = Block_k0(x)``, ``h1 = Block_k1(h0)``,
    ``h2 = Block_k2(h1)``, ``y = ReLU(x + h2)`` with ``Block`` the FCN unit
    (Conv1D → BatchNorm → ReLU, kernels 8, 5, 3) and ``k_i = 64, 64, 64``;
    three sequential blocks, global average pooling, dense layer with linear
    activation.

    Parameters
    ----------
    num_outputs : int
        Regression targets (the paper: 1) or classes.
    seq_channels : int
        Channels ``C`` of ``seq`` (the paper: 2).
    block_filters : sequence of int
        Filters of each residual block (the text: 64 throughout). The authors'
        code (after Wang et al. 2017) uses ``(64, 128, 128)``.
    kernel_sizes : sequence of int
        Kernels of the units inside a block.

    Returns
    -------
    torch.nn.Module
        Maps ``{"seq": (B, L, C), "mask": (B, L)}`` to (B, num_outputs).

    Notes
    -----
    Where the block's input and output widths differ (the first block: ``C`` →
    64) the shortcut is a 1×1 convolution with BatchNorm, as in Wang et al.
    (2017); otherwise it is the identity of eq. 6. Following eq. 6, the third unit
    keeps its ReLU before the addition (the authors' code omits it there).
    Masking as in the module docstring.
    """
    f = _int_tuple("block_filters", block_filters)
    return MontiResNet(
        num_outputs=_positive_int("num_outputs", num_outputs),
        in_channels=_positive_int("seq_channels", seq_channels),
        block_filters=f,
        kernel_sizes=_int_tuple("kernel_sizes", kernel_sizes),
    )


class _InceptionModule(nn.Module):
    def __init__(
        self, cin: int, n_filters: int, bottleneck: int, kernel_sizes: tuple[int, ...]
    ) -> None:
        super().__init__()
        self.bottleneck = nn.Conv1d(cin, bottleneck, 1, bias=False) if cin > 1 else None
        width = bottleneck if cin > 1 else cin
        self.convs = nn.ModuleList(
            _SameConv1d(width, n_filters, k, bias=False) for k in kernel_sizes
        )
        self.pool = nn.MaxPool1d(3, stride=1, padding=1)
        self.pool_conv = nn.Conv1d(cin, n_filters, 1, bias=False)
        self.bn = MaskedBatchNorm1d(n_filters * (len(kernel_sizes) + 1))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        z = x if self.bottleneck is None else self.bottleneck(x) * mask
        branches = [conv(z) for conv in self.convs]
        # padded steps count as -inf in the max pooling, as steps beyond the end do
        pooled = self.pool(x.masked_fill(mask == 0, float("-inf")))
        pooled = torch.where(mask > 0, pooled, torch.zeros((), dtype=x.dtype))
        branches.append(self.pool_conv(pooled))
        return F.relu(self.bn(torch.cat(branches, dim=1), mask)) * mask


class MontiInceptionTime(nn.Module):
    """InceptionTime: inception modules with a shortcut every three, masked GAP."""

    def __init__(
        self,
        *,
        num_outputs: int,
        in_channels: int,
        n_filters: int,
        bottleneck: int,
        kernel_sizes: tuple[int, ...],
        depth: int,
        residual: bool,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.residual = residual
        width = n_filters * (len(kernel_sizes) + 1)
        self.inception = nn.ModuleList(
            _InceptionModule(in_channels if d == 0 else width, n_filters, bottleneck, kernel_sizes)
            for d in range(depth)
        )
        self.shortcuts = nn.ModuleList()
        self.shortcut_bns = nn.ModuleList()
        if residual:
            for d in range(2, depth, 3):
                cin = in_channels if d == 2 else width
                self.shortcuts.append(nn.Conv1d(cin, width, 1, bias=False))
                self.shortcut_bns.append(MaskedBatchNorm1d(width))
        self.out = nn.Linear(width, num_outputs)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x, m = _seq_input(batch, self.in_channels)
        res, s = x, 0
        for d, module in enumerate(self.inception):
            x = module(x, m)
            if self.residual and d % 3 == 2:
                short = self.shortcut_bns[s](self.shortcuts[s](res), m)
                x = F.relu(x + short) * m
                res, s = x, s + 1
        return self.out(_masked_mean(x, m))


@register_model(
    "monti2024_inception",
    input_keys=("seq", "mask"),
    paper=MONTI2024,
    task="both",
    inputs={"phase_sequence": {}},
    shapes={"seq_channels": ("seq", 2)},
)
def monti2024_inception(
    *,
    num_outputs: int = 1,
    seq_channels: int = 2,
    n_filters: int = 32,
    bottleneck: int = 32,
    kernel_sizes: Sequence[int] = (40, 20, 10),
    depth: int = 6,
    residual: bool = True,
) -> nn.Module:
    """InceptionTime as used by monti2024 (section 4.3.2; Ismail Fawaz et al. 2020).

    Paper: two residual blocks of three Inception modules each, a shortcut joining
    each block's input to its output; an Inception module is a bottleneck layer of
    ``m`` filters, several convolutions of different lengths on the bottleneck
    output and, in parallel, a max pooling of the module input, concatenated;
    global average pooling and a dense output layer.

    Parameters
    ----------
    num_outputs : int
        Regression targets (the paper: 1) or classes.
    seq_channels : int
        Channels ``C`` of ``seq`` (the paper: 2).
    n_filters : int
        Filters of each branch; the module outputs ``n_filters × (branches)``
        channels (32 × 4 = 128).
    bottleneck : int
        The bottleneck width ``m`` (not given in the text; 32, as InceptionTime).
    kernel_sizes : sequence of int
        Convolution lengths (not given in the text; 40, 20, 10 as InceptionTime's
        ``kernel_size=41 − 1`` halved twice).
    depth : int
        Inception modules (6: two residual blocks of three).
    residual : bool
        Add the shortcut (1×1 convolution + BatchNorm, then ReLU) every three modules.

    Returns
    -------
    torch.nn.Module
        Maps ``{"seq": (B, L, C), "mask": (B, L)}`` to (B, num_outputs).

    Notes
    -----
    As in InceptionTime: convolutions without bias and linear activation, max
    pooling of size 3 (stride 1, 'same'), then a 1×1 convolution; BatchNorm and
    ReLU after the concatenation; no bottleneck on a one-channel input. Masking as
    in the module docstring (padded steps are ``-inf`` for the max pooling).
    """
    return MontiInceptionTime(
        num_outputs=_positive_int("num_outputs", num_outputs),
        in_channels=_positive_int("seq_channels", seq_channels),
        n_filters=_positive_int("n_filters", n_filters),
        bottleneck=_positive_int("bottleneck", bottleneck),
        kernel_sizes=_int_tuple("kernel_sizes", kernel_sizes),
        depth=_positive_int("depth", depth),
        residual=bool(residual),
    )


class MontiConvRNN(nn.Module):
    """FCN units → masked max pooling → two LSTM/GRU layers with dropout → linear output."""

    def __init__(
        self,
        *,
        cell: str,
        num_outputs: int,
        in_channels: int,
        filters: tuple[int, ...],
        kernel_sizes: tuple[int, ...],
        pool_size: int,
        rnn_units: tuple[int, ...],
        dropout: tuple[float, ...],
        kernel_l2: float,
        recurrent_l1: float,
    ) -> None:
        super().__init__()
        self.in_channels, self.pool_size = in_channels, pool_size
        self.kernel_l2, self.recurrent_l1 = kernel_l2, recurrent_l1
        cins = (in_channels, *filters[:-1])
        self.units = nn.ModuleList(
            _ConvUnit(ci, co, k) for ci, co, k in zip(cins, filters, kernel_sizes, strict=True)
        )
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        sizes = (filters[-1], *rnn_units)
        self.rnns = nn.ModuleList(rnn(a, b, batch_first=True) for a, b in pairwise(sizes))
        self.drops = nn.ModuleList(nn.Dropout(p) for p in dropout)
        self.out = nn.Linear(rnn_units[-1], num_outputs)

    def regularization_loss(self) -> torch.Tensor:
        """The paper's penalty: ``kernel_l2 · Σ W_ih²`` + ``recurrent_l1 · Σ |W_hh|``.

        Add it to the training loss to reproduce the Keras kernel and recurrent
        regularisers (L2 2e-6 on input weights, L1 2e-6 on recurrent weights).
        """
        total = self.out.weight.new_zeros(())
        for rnn in self.rnns:
            for name, p in rnn.named_parameters():
                if name.startswith("weight_ih"):
                    total = total + self.kernel_l2 * p.pow(2).sum()
                elif name.startswith("weight_hh"):
                    total = total + self.recurrent_l1 * p.abs().sum()
        return total

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x, m = _seq_input(batch, self.in_channels)
        for unit in self.units:
            x = unit(x, m)
        # x ≥ 0 after ReLU and zero on padding; a pooled step is real only if its
        # whole window is real (a window cut by the end of a curve is dropped too)
        x = F.max_pool1d(x, self.pool_size)
        m = -F.max_pool1d(-m, self.pool_size)
        h = (x * m).transpose(1, 2)
        for rnn, drop in zip(self.rnns, self.drops, strict=True):
            h, _ = rnn(h)
            h = drop(h)
        last = (m[:, 0].sum(dim=1).long() - 1).clamp(min=0)
        h = h[torch.arange(h.shape[0], device=h.device), last]
        return self.out(h)


_CONV_RNN_DOC = """The convolutional {label} of monti2024 (section 4.3.6).

    Paper: a convolutional block as the FCN (Conv1D → BatchNorm → ReLU, 128, 256
    and 128 filters, kernels 8, 5 and 3, no striding) followed by a 1D max
    pooling; a recurrent block of two {label} layers, each followed by dropout
    (rates 0.2 and 0.1); a dense output layer with linear activation. Kernel
    regulariser L2 2e-6, recurrent regulariser L1 2e-6.

    Parameters
    ----------
    num_outputs : int
        Regression targets (the paper: 1) or classes.
    seq_channels : int
        Channels ``C`` of ``seq`` (the paper: 2).
    filters, kernel_sizes : sequence of int
        The convolutional block.
    pool_size : int
        Max-pooling size (not given in the text; 2, the Keras default the
        authors' code uses).
    rnn_units : sequence of int
        Units of the recurrent layers (not given in the text; 8 and 4 as the
        authors' code). The last layer's output at the last real step feeds the head.
    dropout : sequence of float
        One rate per recurrent layer (the paper: 0.2, 0.1).
    kernel_l2, recurrent_l1 : float
        Regulariser weights, applied through ``model.regularization_loss()``
        (which the training loss must add; it is not part of ``forward``).

    Returns
    -------
    torch.nn.Module
        Maps ``{{"seq": (B, L, C), "mask": (B, L)}}`` to (B, num_outputs).

    Notes
    -----
    Masking as in the module docstring; a pooled step is real only if its whole
    window is, and the recurrent output is read at the last real pooled step
    (trailing padding assumed), so padding does not change the output.
    """


def _conv_rnn_factory(name: str, cell: str) -> Callable[..., nn.Module]:
    """Register and return the monti2024 convolutional recurrent net with ``cell`` layers.

    The ConvLSTM and the ConvGRU differ only in their recurrent cell: one factory,
    registered once per cell, keeps their options and defaults the same.
    """

    def factory(
        *,
        num_outputs: int = 1,
        seq_channels: int = 2,
        filters: Sequence[int] = (128, 256, 128),
        kernel_sizes: Sequence[int] = (8, 5, 3),
        pool_size: int = 2,
        rnn_units: Sequence[int] = (8, 4),
        dropout: Sequence[float] = (0.2, 0.1),
        kernel_l2: float = 2e-6,
        recurrent_l1: float = 2e-6,
    ) -> nn.Module:
        f = _int_tuple("filters", filters)
        units = _int_tuple("rnn_units", rnn_units)
        rates = tuple(_rate("dropout", p) for p in dropout)
        if len(rates) != len(units):
            raise ValueError(
                f"dropout needs one rate per recurrent layer ({len(units)}), got {rates}"
            )
        for option, value in (("kernel_l2", kernel_l2), ("recurrent_l1", recurrent_l1)):
            if float(value) < 0:
                raise ValueError(f"{option} must be non-negative, got {value!r}")
        return MontiConvRNN(
            cell=cell,
            num_outputs=_positive_int("num_outputs", num_outputs),
            in_channels=_positive_int("seq_channels", seq_channels),
            filters=f,
            kernel_sizes=_int_tuple("kernel_sizes", kernel_sizes, len(f)),
            pool_size=_positive_int("pool_size", pool_size),
            rnn_units=units,
            dropout=rates,
            kernel_l2=float(kernel_l2),
            recurrent_l1=float(recurrent_l1),
        )

    factory.__name__ = factory.__qualname__ = name
    factory.__doc__ = _CONV_RNN_DOC.format(label=cell.upper())
    return register_model(
        name,
        input_keys=("seq", "mask"),
        paper=MONTI2024,
        task="both",
        inputs={"phase_sequence": {}},
        shapes={"seq_channels": ("seq", 2)},
    )(factory)


monti2024_convlstm = _conv_rnn_factory("monti2024_convlstm", "lstm")
monti2024_convgru = _conv_rnn_factory("monti2024_convgru", "gru")
