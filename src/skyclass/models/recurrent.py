"""Recurrent and attention models of epoch sequences: kang2023, monti2024, a small transformer.

Every model here reads ``seq`` (B, L, C) and ``mask`` (B, L) (1 on a real epoch,
0 on padding) and returns a (B, num_outputs) tensor. Padding never influences the
output: padded steps are zeroed first (so even NaN padding is harmless), the real
steps of each row are moved to the front in their order and packed with
:func:`torch.nn.utils.rnn.pack_padded_sequence`, so a recurrent layer runs over
the real steps only. This is what a Keras ``Masking`` layer does (a masked step
is skipped and the state carried over), whatever the padding value. A row with no
real step is read as one step of zeros, so its output is finite.

Regularisation penalties are the trainer's job: the monti2024 models hold their
coefficients and expose :meth:`MontiRecurrent.regularization_groups` and
:meth:`MontiRecurrent.regularization_loss` (add the latter to the batch loss).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

from skyclass.models.registry import register_model

__all__ = [
    "Kang2023RNN",
    "MontiRecurrent",
    "SequenceTransformer",
    "kang2023_rnn",
    "masked_sequence",
    "monti2024_bigru",
    "monti2024_bilstm",
    "monti2024_gru",
    "monti2024_lstm",
    "pack_real_steps",
    "transformer_seq",
]

KANG2023 = (
    "Kang et al. 2023, MNRAS, 'Periodic variable star classification with deep learning: "
    "handling data imbalance in an ensemble augmentation way'"
)
MONTI2024 = (
    "Monti et al. 2024, 'Deep learning for the metallicity of RR Lyrae stars from Gaia "
    "DR3 G-band light curves'"
)


def masked_sequence(
    batch: Mapping[str, Tensor], channels: int, model: str
) -> tuple[Tensor, Tensor]:
    """``seq`` with padded steps set to 0, and the boolean mask of real steps.

    A missing ``mask`` means every step is real. A row without any real step gets
    its first (zeroed) step marked real, so every row has at least one step.

    Raises
    ------
    ValueError
        If ``seq`` is not (B, L, channels) or ``mask`` is not (B, L).

    Examples
    --------
    >>> seq = torch.tensor([[[1.0], [float("nan")]]])
    >>> x, m = masked_sequence({"seq": seq, "mask": torch.tensor([[1.0, 0.0]])}, 1, "demo")
    >>> x.flatten().tolist(), m.tolist()
    ([1.0, 0.0], [[True, False]])
    """
    seq = batch["seq"]
    if seq.ndim != 3 or seq.shape[-1] != channels:
        raise ValueError(
            f"{model} was built for seq of shape (batch, length, {channels}) but got "
            f"{tuple(seq.shape)}; pass seq_channels={seq.shape[-1] if seq.ndim == 3 else '?'} "
            "when creating the model"
        )
    mask = batch.get("mask")
    if mask is None:
        real = torch.ones(seq.shape[:2], dtype=torch.bool, device=seq.device)
    else:
        if tuple(mask.shape) != tuple(seq.shape[:2]):
            raise ValueError(
                f"{model}: mask has shape {tuple(mask.shape)}, seq has {tuple(seq.shape)}; "
                "mask must be (batch, length)"
            )
        real = mask > 0.5
    empty = ~real.any(dim=1)
    if bool(empty.any()):
        real = real.clone()
        real[empty, 0] = True
    seq = torch.where(real[..., None], seq, torch.zeros((), dtype=seq.dtype, device=seq.device))
    return seq, real


def pack_real_steps(seq: Tensor, real: Tensor) -> PackedSequence:
    """Pack the real steps of each row (in their order), wherever the padding sits.

    Examples
    --------
    >>> seq = torch.tensor([[[0.0], [1.0], [2.0]]])
    >>> packed = pack_real_steps(seq, torch.tensor([[False, True, True]]))
    >>> packed.data.flatten().tolist()
    [1.0, 2.0]
    """
    order = torch.argsort((~real).to(torch.int8), dim=1, stable=True)
    compact = torch.gather(seq, 1, order[..., None].expand_as(seq))
    lengths = real.sum(dim=1).clamp(min=1).cpu()
    return pack_padded_sequence(compact, lengths, batch_first=True, enforce_sorted=False)


def _packed_map(module: nn.Module, packed: PackedSequence) -> PackedSequence:
    """Apply an element-wise ``module`` (dropout) to the data of a packed sequence."""
    return PackedSequence(
        module(packed.data), packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices
    )


def _final_state(hidden: Tensor | tuple[Tensor, Tensor], bidirectional: bool) -> Tensor:
    """(B, H or 2H) last state of a one-layer RNN: forward end ⊕ backward start."""
    h = hidden[0] if isinstance(hidden, tuple) else hidden
    return torch.cat([h[0], h[1]], dim=-1) if bidirectional else h[0]


def _pair(name: str, value: Sequence[int]) -> tuple[int, int]:
    values = tuple(int(v) for v in value)
    if len(values) != 2 or min(values) < 1:
        raise ValueError(f"{name} must be two positive integers, got {value!r}")
    return values  # type: ignore[return-value]


def _check_dropout(value: float) -> float:
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"dropout rates must be in [0, 1), got {value!r}")
    return float(value)


# --------------------------------------------------------------------------- kang2023


class Kang2023RNN(nn.Module):
    """kang2023's RNN-based multi-input net; see :func:`kang2023_rnn` for the layout.

    The layer names (``gru1``, ``gru2``, ``gru_dropout``, ``seq_dense1``,
    ``dense_dropout``, ``seq_dense2``, ``feat_dense1``, ``feat_dense2``, ``head``) are
    part of the contract: :class:`skyclass.models.compound.Kang2023Compound` holds
    one of these as ``rnn`` and loads a trained net's ``state_dict`` into it.
    """

    def __init__(
        self,
        *,
        num_outputs: int,
        seq_channels: int,
        num_features: int,
        gru_units: Sequence[int],
        dense_units: Sequence[int],
        feature_units: Sequence[int],
        dropout: float,
    ):
        super().__init__()
        g1, g2 = _pair("gru_units", gru_units)
        d1, d2 = _pair("dense_units", dense_units)
        f1, f2 = _pair("feature_units", feature_units)
        if num_features < 0:
            raise ValueError(
                f"num_features must be 0 (no numeric branch) or more, got {num_features!r}"
            )
        self.seq_channels = int(seq_channels)
        self.num_features = int(num_features)
        self.gru1 = nn.GRU(self.seq_channels, g1, batch_first=True, bidirectional=True)
        self.gru2 = nn.GRU(2 * g1, g2, batch_first=True, bidirectional=True)
        self.gru_dropout = nn.Dropout(_check_dropout(dropout))
        self.seq_dense1 = nn.Linear(2 * g2, d1)
        self.dense_dropout = nn.Dropout(_check_dropout(dropout))
        self.seq_dense2 = nn.Linear(d1, d2)
        # num_features=0 is the ablation without the numeric branch: no layers at all
        # (so nothing to load or freeze), an empty embedding, a narrower head.
        self.feat_dense1 = nn.Linear(self.num_features, f1) if self.num_features else None
        self.feat_dense2 = nn.Linear(f1, f2) if self.num_features else None
        self.head = nn.Linear(d2 + self.feature_dim, num_outputs)

    @property
    def sequence_dim(self) -> int:
        """Width of :meth:`sequence_embedding`."""
        return self.seq_dense2.out_features

    @property
    def feature_dim(self) -> int:
        """Width of :meth:`feature_embedding` (0 without the numeric branch)."""
        return 0 if self.feat_dense2 is None else self.feat_dense2.out_features

    def sequence_embedding(self, batch: Mapping[str, Tensor]) -> Tensor:
        """(B, dense_units[1]): BiGRU → BiGRU → dropout → dense → dropout → dense."""
        seq, real = masked_sequence(batch, self.seq_channels, "kang2023_rnn")
        out, _ = self.gru1(pack_real_steps(seq, real))
        _, hidden = self.gru2(out)
        x = self.gru_dropout(_final_state(hidden, bidirectional=True))
        x = self.dense_dropout(torch.relu(self.seq_dense1(x)))
        return torch.relu(self.seq_dense2(x))

    def feature_embedding(self, batch: Mapping[str, Tensor]) -> Tensor:
        """(B, feature_units[1]): two ReLU dense layers on ``features``; (B, 0) without them."""
        if self.feat_dense1 is None or self.feat_dense2 is None:
            seq = batch["seq"]
            return seq.new_zeros((seq.shape[0], 0))
        features = batch["features"]
        if features.ndim != 2 or features.shape[1] != self.num_features:
            raise ValueError(
                f"kang2023_rnn was built for features of shape (batch, {self.num_features}) "
                f"but got {tuple(features.shape)}; pass num_features= when creating the model"
            )
        return torch.relu(self.feat_dense2(torch.relu(self.feat_dense1(features))))

    def forward(self, batch: Mapping[str, Tensor]) -> Tensor:
        """Class logits (B, num_outputs); softmax is left to the loss."""
        return self.head(
            torch.cat([self.sequence_embedding(batch), self.feature_embedding(batch)], dim=-1)
        )


@register_model(
    "kang2023_rnn",
    input_keys=("seq", "mask", "features"),
    paper=KANG2023,
    inputs={"sequence": {"max_len": 300}, "features": {}},
    shapes={"seq_channels": ("seq", 2), "num_features": ("features", 1)},
)
def kang2023_rnn(
    *,
    num_outputs: int = 11,
    seq_channels: int = 3,
    num_features: int = 2,
    gru_units: Sequence[int] = (128, 64),
    dense_units: Sequence[int] = (128, 32),
    feature_units: Sequence[int] = (64, 32),
    dropout: float = 0.4,
) -> Kang2023RNN:
    """kang2023's RNN-based multi-input neural network (their Sect. 4.1, Fig. 3).

    Sequence branch: ``(Δt, mag, err)`` epochs → bidirectional GRU (returns the
    sequence) → bidirectional GRU (returns the final states, forward ⊕ backward)
    → dropout → dense + ReLU → dropout → dense + ReLU. Numeric branch: two dense +
    ReLU layers. The two embeddings are concatenated → dense to ``num_outputs``
    logits (the paper's softmax is left to the loss; train with label smoothing 0.1,
    Adam lr 1e-3, batch 32).

    The text gives the layer types and "dropout 0.4 on the second GRU and the
    first dense layer"; the unit counts are only in its Fig. 3, which we read
    from the authors' public code (``rnn_with_feature`` in github
    52Hzihan/mixnn4vs): GRU 128 and 64 units per direction, dense 128 and 32,
    numeric dense 64 and 32, ReLU activations. Padding is skipped as by their
    Keras ``Masking`` layer (see the module docstring), but from the ``mask``
    rather than from all-zero steps.

    Parameters
    ----------
    num_outputs : int
        Number of classes (11 in CRTS DR2).
    seq_channels : int
        Channels of ``seq``: 3 for :class:`~skyclass.represent.sequence.EpochSequence`
        with one band, ``3 + n_bands`` with several merged bands.
    num_features : int
        Length of ``features`` (period and amplitude for CRTS; add colours elsewhere).
        0 drops the numeric branch (kang2023's ablation "without the numeric
        inputs"): the head reads the sequence embedding alone and ``features``,
        if given, is ignored. Passed on by
        :func:`~skyclass.models.compound.kang2023_compound` the same way.
    gru_units : (int, int)
        Units per direction of the two bidirectional GRU layers.
    dense_units : (int, int)
        Dense layers after the GRUs.
    feature_units : (int, int)
        Dense layers of the numeric branch.
    dropout : float
        Rate after the second GRU and after the first dense layer.

    Returns
    -------
    Kang2023RNN

    Examples
    --------
    >>> net = kang2023_rnn(num_outputs=3, gru_units=(4, 4), dense_units=(4, 4))
    >>> batch = {"seq": torch.zeros(2, 5, 3), "mask": torch.ones(2, 5),
    ...          "features": torch.zeros(2, 2)}
    >>> tuple(net(batch).shape)
    (2, 3)
    >>> bare = kang2023_rnn(num_outputs=3, num_features=0, gru_units=(4, 4), dense_units=(4, 4))
    >>> tuple(bare(batch).shape), bare.feature_dim
    ((2, 3), 0)
    """
    return Kang2023RNN(
        num_outputs=num_outputs,
        seq_channels=seq_channels,
        num_features=num_features,
        gru_units=gru_units,
        dense_units=dense_units,
        feature_units=feature_units,
        dropout=dropout,
    )


# --------------------------------------------------------------------------- monti2024


class MontiRecurrent(nn.Module):
    """monti2024's stacked (Bi)LSTM / (Bi)GRU regressor; see :func:`monti2024_gru`.

    Layers are ``rnn.0 … rnn.{n-1}`` (each one single-layer ``nn.LSTM``/``nn.GRU``),
    ``drop.0 …`` and ``head``. The Keras ``kernel`` of a layer is PyTorch's
    ``weight_ih_l0`` (and ``weight_ih_l0_reverse``), its ``recurrent_kernel`` is
    ``weight_hh_l0`` (``_reverse``); biases are not regularised, as in Keras.
    """

    def __init__(
        self,
        *,
        cell: Literal["lstm", "gru"],
        bidirectional: bool,
        num_outputs: int,
        seq_channels: int,
        units: Sequence[int],
        dropout: Sequence[float],
        kernel_l1: float,
        kernel_l2: float,
        recurrent_l1: float,
        recurrent_l2: float,
        name: str,
    ):
        super().__init__()
        units = tuple(int(u) for u in units)
        rates = tuple(_check_dropout(p) for p in dropout)
        if not units or min(units) < 1 or len(rates) != len(units):
            raise ValueError(
                f"units must be positive integers and dropout one rate per layer, got "
                f"units={units!r}, dropout={tuple(dropout)!r}"
            )
        layer = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        dirs = 2 if bidirectional else 1
        self.name = name
        self.seq_channels = int(seq_channels)
        self.bidirectional = bool(bidirectional)
        widths = (self.seq_channels, *(dirs * u for u in units[:-1]))
        self.rnn = nn.ModuleList(
            layer(w, u, batch_first=True, bidirectional=bidirectional)
            for w, u in zip(widths, units, strict=True)
        )
        self.drop = nn.ModuleList(nn.Dropout(p) for p in rates)
        self.head = nn.Linear(dirs * units[-1], num_outputs)
        self.kernel_l1 = float(kernel_l1)
        self.kernel_l2 = float(kernel_l2)
        self.recurrent_l1 = float(recurrent_l1)
        self.recurrent_l2 = float(recurrent_l2)

    def forward(self, batch: Mapping[str, Tensor]) -> Tensor:
        """(B, num_outputs): linear outputs (regression targets or class logits)."""
        seq, real = masked_sequence(batch, self.seq_channels, self.name)
        x = pack_real_steps(seq, real)
        last = len(self.rnn) - 1
        for i, (rnn, drop) in enumerate(zip(self.rnn, self.drop, strict=True)):
            out, hidden = rnn(x)
            if i < last:
                x = _packed_map(drop, out)
            else:
                embedding = drop(_final_state(hidden, self.bidirectional))
        return self.head(embedding)

    def regularization_groups(self) -> dict[str, list[nn.Parameter]]:
        """``{"kernel": input-to-hidden weights, "recurrent": hidden-to-hidden weights}``."""
        kernel, recurrent = [], []
        for rnn in self.rnn:
            for name, param in rnn.named_parameters():
                if name.startswith("weight_ih"):
                    kernel.append(param)
                elif name.startswith("weight_hh"):
                    recurrent.append(param)
        return {"kernel": kernel, "recurrent": recurrent}

    def regularization_loss(self) -> Tensor:
        """Keras-style penalty ``Σ l1·|w| + l2·w²`` over the kernel and recurrent groups.

        Add it once per optimisation step to the (mean) batch loss, as Keras does.
        """
        groups = self.regularization_groups()
        total = self.head.weight.new_zeros(())
        for group, l1, l2 in (
            ("kernel", self.kernel_l1, self.kernel_l2),
            ("recurrent", self.recurrent_l1, self.recurrent_l2),
        ):
            for w in groups[group]:
                if l1:
                    total = total + l1 * w.abs().sum()
                if l2:
                    total = total + l2 * w.square().sum()
        return total


_MONTI_PARAMETERS = """
    Parameters
    ----------
    num_outputs : int
        1 for one regression target ([Fe/H]); the number of classes to classify.
    seq_channels : int
        Channels of ``seq``: 2 for :class:`~skyclass.represent.sequence.PhaseSequence`
        ``(m − ⟨m⟩, phase·P)``, 3 with its mean-magnitude channel.
    units : sequence of int
        Units (per direction) of each recurrent layer, first to last.
    dropout : sequence of float
        Dropout rate after each recurrent layer.
    kernel_l1, kernel_l2, recurrent_l1, recurrent_l2 : float
        Coefficients of :meth:`MontiRecurrent.regularization_loss` (Keras-style
        ``l1·Σ|w| + l2·Σw²`` on the input and the recurrent weights; not biases).

    Returns
    -------
    MontiRecurrent
"""


@register_model(
    "monti2024_lstm",
    input_keys=("seq", "mask"),
    paper=MONTI2024,
    task="both",
    inputs={"phase_sequence": {}},
    shapes={"seq_channels": ("seq", 2)},
)
def monti2024_lstm(
    *,
    num_outputs: int = 1,
    seq_channels: int = 2,
    units: Sequence[int] = (20, 16, 8),
    dropout: Sequence[float] = (0.2, 0.2, 0.1),
    kernel_l1: float = 0.0,
    kernel_l2: float = 2e-6,
    recurrent_l1: float = 2e-6,
    recurrent_l2: float = 0.0,
) -> MontiRecurrent:
    """monti2024's LSTM regressor (their Sect. 4.3.4, eq. 7).

    Three blocks ``LSTM → dropout`` (20, 16, 8 units; dropout 0.2, 0.2, 0.1), the
    first two returning their sequences and the last its final state, then a
    linear dense layer. Regularisation: L2 2e-6 on the kernels, L1 2e-6 on the
    recurrent kernels. The paper gives the units for the GRU only (Table 2) and
    calls the architectures similar; we use them here. Keras' LSTM has one bias
    vector per gate, PyTorch's two, so PyTorch counts 4·units more per layer.
    Train with sample-weighted MSE, Adam lr 1e-2, batch 256, adding
    ``regularization_loss()`` to the loss.
    {parameters}
    Examples
    --------
    >>> net = monti2024_lstm()
    >>> tuple(net({{"seq": torch.zeros(2, 7, 2), "mask": torch.ones(2, 7)}}).shape)
    (2, 1)
    """
    return MontiRecurrent(cell="lstm", bidirectional=False, name="monti2024_lstm", **locals())


@register_model(
    "monti2024_bilstm",
    input_keys=("seq", "mask"),
    paper=MONTI2024,
    task="both",
    inputs={"phase_sequence": {}},
    shapes={"seq_channels": ("seq", 2)},
)
def monti2024_bilstm(
    *,
    num_outputs: int = 1,
    seq_channels: int = 2,
    units: Sequence[int] = (20, 16, 8),
    dropout: Sequence[float] = (0.2, 0.2, 0.1),
    kernel_l1: float = 2e-6,
    kernel_l2: float = 0.0,
    recurrent_l1: float = 2e-6,
    recurrent_l2: float = 0.0,
) -> MontiRecurrent:
    """monti2024's BiLSTM regressor (their Sect. 4.3.4, eq. 7).

    As :func:`monti2024_lstm` with bidirectional layers (forward and backward
    outputs concatenated; the last block gives forward end ⊕ backward start), and
    L1 2e-6 on both the kernels and the recurrent kernels (Sect. 4.3.4). The paper
    gives no units for this model: we use the GRU's 20/16/8 per direction. (The
    authors' code builds two layers of 16 units instead, against the text's three
    blocks.)
    {parameters}
    Examples
    --------
    >>> net = monti2024_bilstm()
    >>> tuple(net({{"seq": torch.zeros(2, 7, 2), "mask": torch.ones(2, 7)}}).shape)
    (2, 1)
    """
    return MontiRecurrent(cell="lstm", bidirectional=True, name="monti2024_bilstm", **locals())


@register_model(
    "monti2024_gru",
    input_keys=("seq", "mask"),
    paper=MONTI2024,
    task="both",
    inputs={"phase_sequence": {}},
    shapes={"seq_channels": ("seq", 2)},
)
def monti2024_gru(
    *,
    num_outputs: int = 1,
    seq_channels: int = 2,
    units: Sequence[int] = (20, 16, 8),
    dropout: Sequence[float] = (0.2, 0.2, 0.1),
    kernel_l1: float = 0.0,
    kernel_l2: float = 2e-6,
    recurrent_l1: float = 2e-6,
    recurrent_l2: float = 0.0,
) -> MontiRecurrent:
    """monti2024's GRU regressor, their best model (Sect. 4.3.5, Table 2, Fig. 4).

    Table 2: ``gru_1`` 20 units → dropout 0.2 → ``gru_2`` 16 → dropout 0.2 →
    ``gru_3`` 8 (final state) → dropout 0.1 → dense 1 (linear); L1 2e-6 on the
    recurrent kernels, L2 2e-6 on the kernels. With the default 2 input channels
    the parameter count equals Table 2's (1440 + 1824 + 624 + 9 = 3897): Keras'
    ``reset_after`` GRU and PyTorch's both have two bias vectors.
    {parameters}
    Examples
    --------
    >>> net = monti2024_gru()
    >>> sum(p.numel() for p in net.parameters())
    3897
    """
    return MontiRecurrent(cell="gru", bidirectional=False, name="monti2024_gru", **locals())


@register_model(
    "monti2024_bigru",
    input_keys=("seq", "mask"),
    paper=MONTI2024,
    task="both",
    inputs={"phase_sequence": {}},
    shapes={"seq_channels": ("seq", 2)},
)
def monti2024_bigru(
    *,
    num_outputs: int = 1,
    seq_channels: int = 2,
    units: Sequence[int] = (20, 16, 8),
    dropout: Sequence[float] = (0.2, 0.2, 0.1),
    kernel_l1: float = 2e-6,
    kernel_l2: float = 0.0,
    recurrent_l1: float = 2e-6,
    recurrent_l2: float = 0.0,
) -> MontiRecurrent:
    """monti2024's BiGRU regressor (their Sect. 4.3.5).

    The text makes it "completely similar" to the BiLSTM: three bidirectional GRU
    blocks (20, 16, 8 units per direction, our choice as for
    :func:`monti2024_bilstm`), dropout 0.2, 0.2, 0.1, a linear dense layer, and L1
    2e-6 on both the kernels and the recurrent kernels.
    {parameters}
    Examples
    --------
    >>> net = monti2024_bigru()
    >>> tuple(net({{"seq": torch.zeros(2, 7, 2), "mask": torch.ones(2, 7)}}).shape)
    (2, 1)
    """
    return MontiRecurrent(cell="gru", bidirectional=True, name="monti2024_bigru", **locals())


for _factory in (monti2024_lstm, monti2024_bilstm, monti2024_gru, monti2024_bigru):
    _factory.__doc__ = (_factory.__doc__ or "").format(parameters=_MONTI_PARAMETERS)


# --------------------------------------------------------------------------- transformer


def _sinusoid(position: Tensor, dim: int) -> Tensor:
    """(B, L, dim) sinusoidal encoding of integer positions (B, L)."""
    half = dim // 2
    freq = torch.exp(
        -math.log(10000.0) * torch.arange(half, device=position.device, dtype=torch.float32) / half
    )
    angle = position.to(torch.float32)[..., None] * freq
    enc = torch.cat([angle.sin(), angle.cos()], dim=-1)
    if dim % 2:
        enc = nn.functional.pad(enc, (0, 1))
    return enc


class SequenceTransformer(nn.Module):
    """A small transformer encoder over epochs; see :func:`transformer_seq`."""

    def __init__(
        self,
        *,
        num_outputs: int,
        seq_channels: int,
        d_model: int,
        nhead: int,
        num_layers: int,
        dim_feedforward: int,
        dropout: float,
        positional: bool,
    ):
        super().__init__()
        if d_model % nhead:
            raise ValueError(f"d_model ({d_model}) must be a multiple of nhead ({nhead})")
        self.seq_channels = int(seq_channels)
        self.positional = bool(positional)
        self.embed = nn.Linear(self.seq_channels, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model,
            nhead,
            dim_feedforward,
            _check_dropout(dropout),
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            layer, num_layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False
        )
        self.head = nn.Linear(d_model, num_outputs)

    def forward(self, batch: Mapping[str, Tensor]) -> Tensor:
        """(B, num_outputs) from the masked mean of the encoded real steps."""
        seq, real = masked_sequence(batch, self.seq_channels, "transformer_seq")
        x = self.embed(seq)
        if self.positional:
            # rank among the real steps, so holes in the mask do not shift positions
            x = x + _sinusoid(real.cumsum(dim=1) - 1, x.shape[-1])
        x = self.encoder(x, src_key_padding_mask=~real)
        weight = real.to(x.dtype)[..., None]
        x = torch.where(real[..., None], x, torch.zeros((), dtype=x.dtype, device=x.device))
        pooled = x.sum(dim=1) / weight.sum(dim=1)
        return self.head(pooled)


@register_model(
    "transformer_seq",
    input_keys=("seq", "mask"),
    paper="",
    task="both",
    inputs={"sequence": {"max_len": 300}},
    shapes={"seq_channels": ("seq", 2)},
)
def transformer_seq(
    *,
    num_outputs: int = 1,
    seq_channels: int = 3,
    d_model: int = 64,
    nhead: int = 4,
    num_layers: int = 2,
    dim_feedforward: int = 128,
    dropout: float = 0.1,
    positional: bool = True,
) -> SequenceTransformer:
    """A small transformer encoder over epochs (no paper; a modern baseline).

    Each step ``seq[b, t]`` → linear embedding (+ sinusoidal encoding of the step's
    rank among the real steps) → ``num_layers`` pre-norm encoder layers with the
    padding as ``src_key_padding_mask`` → final LayerNorm → mean over the real
    steps → linear to ``num_outputs``. Time itself enters through the sequence's
    Δt or phase channel.

    Parameters
    ----------
    num_outputs : int
        Number of classes, or regression targets.
    seq_channels : int
        Channels of ``seq``.
    d_model, nhead, num_layers, dim_feedforward, dropout
        As in :class:`torch.nn.TransformerEncoderLayer`.
    positional : bool
        Add the sinusoidal position encoding.

    Returns
    -------
    SequenceTransformer

    Examples
    --------
    >>> net = transformer_seq(num_outputs=3, d_model=8, nhead=2, dim_feedforward=16)
    >>> tuple(net({"seq": torch.zeros(2, 5, 3), "mask": torch.ones(2, 5)}).shape)
    (2, 3)
    """
    return SequenceTransformer(
        num_outputs=num_outputs,
        seq_channels=seq_channels,
        d_model=d_model,
        nhead=nhead,
        num_layers=num_layers,
        dim_feedforward=dim_feedforward,
        dropout=dropout,
        positional=positional,
    )
