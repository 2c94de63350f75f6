"""kang2023's compound net: their RNN multi-input net plus a CNN on the folded-curve image.

Two-stage training (kang2023, Sect. 4.2), with the attribute names a trainer uses:

1. train ``create_model("kang2023_rnn", **rnn_options)`` on ``seq``/``mask``/``features``;
2. build ``create_model("kang2023_compound", **rnn_options, ...)``, call
   ``compound.load_rnn_state(rnn.state_dict())`` (or
   ``compound.rnn.load_state_dict(...)``: ``compound.rnn`` *is* a
   :class:`~skyclass.models.recurrent.Kang2023RNN` with the same layer names),
   then ``compound.freeze_rnn()`` and train the rest (``compound.cnn`` and
   ``compound.head``). Frozen parameters have ``requires_grad=False`` and get no
   gradient, so any optimiser leaves them unchanged; building the optimiser from
   ``compound.trainable_parameters()`` also skips them. ``compound.rnn_state_keys()``
   lists the compound's ``state_dict`` keys that came from the RNN net.

``compound.rnn.head`` (the RNN net's own classifier) is loaded and frozen with the
rest of ``rnn`` but not used: the compound has its own ``head``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from skyclass.models.recurrent import KANG2023, Kang2023RNN
from skyclass.models.registry import register_model

__all__ = ["Kang2023Compound", "SameConv2d", "Szklenar2022CNN", "kang2023_compound"]


class SameConv2d(nn.Conv2d):
    """A Conv2d with Keras ``padding="same"``: output size ``ceil(input / stride)``.

    Keras pads ``max((ceil(n/s) − 1)·s + k − n, 0)`` in total, the extra pixel of an
    odd total on the right/bottom; PyTorch's ``padding="same"`` does not take a
    stride, and even kernels (16, 8, 4 here) need the asymmetric split.

    Examples
    --------
    >>> conv = SameConv2d(1, 2, kernel_size=16, stride=2)
    >>> tuple(conv(torch.zeros(1, 1, 128, 128)).shape)
    (1, 2, 64, 64)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=0)

    def forward(self, x: Tensor) -> Tensor:
        """Pad as Keras' ``"same"``, then convolve."""
        pads = []
        for n, k, s in zip(
            reversed(x.shape[-2:]), reversed(self.kernel_size), reversed(self.stride), strict=True
        ):
            total = max((math.ceil(n / s) - 1) * s + k - n, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(nn.functional.pad(x, pads))


class Szklenar2022CNN(nn.Module):
    """The CNN image branch of Szklenár et al. 2022 as kang2023 used it, ending in a dense layer.

    Four blocks ``conv (ReLU) → dropout → max-pool 3×3 stride 2`` with 32, 64, 64,
    128 filters of 16×16 (stride 2), 8×8, 4×4, 3×3 ("same" padding), then global
    average pooling → dropout → dense 256 (ReLU) → dropout → dense ``out_features``
    (ReLU). kang2023's text says only "the same as in Szklenár et al. (2022), last
    dense → 32"; the layer sizes are those of the image branch of the authors'
    public code (``multi_input_model`` in github 52Hzihan/mixnn4vs). Their Keras
    ``Rescaling(1/255)`` is left out: :class:`~skyclass.represent.image.FoldedImage`
    already gives pixels in [0, 1].

    The 128×128 image shrinks 64 → 31 → 15 → 7 → 3 through the blocks; anything
    smaller than 62 pixels a side cannot pass the four poolings.

    Examples
    --------
    >>> cnn = Szklenar2022CNN()
    >>> tuple(cnn(torch.zeros(2, 1, 128, 128)).shape)
    (2, 32)
    """

    MIN_SIZE = 62

    def __init__(
        self,
        *,
        in_channels: int = 1,
        filters: Sequence[int] = (32, 64, 64, 128),
        kernels: Sequence[int] = (16, 8, 4, 3),
        dense_units: int = 256,
        out_features: int = 32,
        dropout: float = 0.2,
    ):
        super().__init__()
        filters = tuple(int(f) for f in filters)
        kernels = tuple(int(k) for k in kernels)
        if len(filters) != 4 or len(kernels) != 4:
            raise ValueError(
                f"filters and kernels must each have 4 entries, got {filters!r}, {kernels!r}"
            )
        self.in_channels = int(in_channels)
        widths = (self.in_channels, *filters[:-1])
        self.convs = nn.ModuleList(
            SameConv2d(w, f, k, stride=2 if i == 0 else 1)
            for i, (w, f, k) in enumerate(zip(widths, filters, kernels, strict=True))
        )
        self.pool = nn.MaxPool2d(3, stride=2)
        self.dropout = nn.Dropout(dropout)
        self.dense1 = nn.Linear(filters[-1], dense_units)
        self.dense2 = nn.Linear(dense_units, out_features)

    def forward(self, image: Tensor) -> Tensor:
        """(B, out_features) from an image batch (B, in_channels, H, W)."""
        if image.ndim != 4 or image.shape[1] != self.in_channels:
            raise ValueError(
                f"the CNN branch wants image of shape (batch, {self.in_channels}, H, W), "
                f"got {tuple(image.shape)}"
            )
        if min(image.shape[-2:]) < self.MIN_SIZE:
            raise ValueError(
                f"image of {tuple(image.shape[-2:])} pixels is too small for the CNN branch "
                f"(at least {self.MIN_SIZE} a side; kang2023 used 128×128)"
            )
        x = image
        for conv in self.convs:
            x = self.pool(self.dropout(torch.relu(conv(x))))
        x = self.dropout(x.mean(dim=(-2, -1)))
        x = self.dropout(torch.relu(self.dense1(x)))
        return torch.relu(self.dense2(x))


class Kang2023Compound(nn.Module):
    """kang2023's compound multi-input net; see :func:`kang2023_compound` and the module doc."""

    def __init__(self, *, rnn: Kang2023RNN, cnn: Szklenar2022CNN, num_outputs: int):
        super().__init__()
        self.rnn = rnn
        self.cnn = cnn
        self.head = nn.Linear(
            rnn.sequence_dim + cnn.dense2.out_features + rnn.feature_dim, num_outputs
        )

    def forward(self, batch: Mapping[str, Tensor]) -> Tensor:
        """Class logits (B, num_outputs) from sequence ⊕ image ⊕ numeric embeddings."""
        return self.head(
            torch.cat(
                [
                    self.rnn.sequence_embedding(batch),
                    self.cnn(batch["folded_image"]),
                    self.rnn.feature_embedding(batch),
                ],
                dim=-1,
            )
        )

    def load_rnn_state(self, state_dict: Mapping[str, Tensor]) -> None:
        """Load a trained ``kang2023_rnn`` net's ``state_dict`` into ``self.rnn`` (strict).

        Keys may also carry the ``"rnn."`` prefix (as in :meth:`rnn_state_keys`).
        """
        prefix = "rnn."
        self.rnn.load_state_dict(
            {k.removeprefix(prefix): v for k, v in state_dict.items()}, strict=True
        )

    def rnn_state_keys(self) -> list[str]:
        """The keys of ``self.state_dict()`` that belong to the RNN net (``"rnn.…"``)."""
        return [f"rnn.{key}" for key in self.rnn.state_dict()]

    def freeze_rnn(self) -> None:
        """Make the RNN part untrainable (stage 2); its dropout still acts in train mode.

        That is what Keras' ``trainable = False`` does, which kang2023 used.
        """
        self.rnn.requires_grad_(False)

    def unfreeze_rnn(self) -> None:
        """Undo :meth:`freeze_rnn`."""
        self.rnn.requires_grad_(True)

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Parameters that require gradients (everything but a frozen ``rnn``)."""
        return [p for p in self.parameters() if p.requires_grad]


@register_model(
    "kang2023_compound",
    input_keys=("seq", "mask", "features", "folded_image"),
    paper=KANG2023 + "; CNN branch after Szklenár et al. 2022, ApJ 938, 37",
    inputs={"sequence": {"max_len": 300}, "features": {}, "image": {}},
    shapes={
        "seq_channels": ("seq", 2),
        "num_features": ("features", 1),
        "image_channels": ("folded_image", 1),
    },
)
def kang2023_compound(
    *,
    num_outputs: int = 11,
    seq_channels: int = 3,
    num_features: int = 2,
    gru_units: Sequence[int] = (128, 64),
    dense_units: Sequence[int] = (128, 32),
    feature_units: Sequence[int] = (64, 32),
    dropout: float = 0.4,
    image_channels: int = 1,
    cnn_filters: Sequence[int] = (32, 64, 64, 128),
    cnn_kernels: Sequence[int] = (16, 8, 4, 3),
    cnn_dense_units: int = 256,
    cnn_out_features: int = 32,
    cnn_dropout: float = 0.2,
) -> Kang2023Compound:
    """kang2023's compound multi-input neural network (their Sect. 4.2, Fig. 4).

    The RNN and numeric branches of :func:`~skyclass.models.recurrent.kang2023_rnn`
    (held whole as ``rnn``; same options, same defaults), a CNN branch
    (:class:`Szklenar2022CNN`) on the 128×128 single-channel image of the
    phase-folded curve whose last dense layer gives 32 values, and a dense layer on
    the concatenation (sequence 32 ⊕ image 32 ⊕ numeric 32, the order of the
    authors' code) to ``num_outputs`` logits. Train in two stages (module
    docstring): RNN net first, then load it into ``rnn``, freeze it and train the
    rest with the same regularisation (dropout, label smoothing 0.1).

    The CNN dropout rate 0.2 is from the authors' code (the text is silent). Their
    code also puts an L1 (0.01) penalty on the CNN's dense layers, which the paper
    does not mention; we leave it out.

    Parameters
    ----------
    num_outputs, seq_channels, num_features, gru_units, dense_units, feature_units, dropout
        As for :func:`~skyclass.models.recurrent.kang2023_rnn`; pass the same values
        as the RNN net whose weights you load.
    image_channels : int
        Channels of ``folded_image`` (1 for :class:`~skyclass.represent.image.FoldedImage`).
    cnn_filters, cnn_kernels : sequence of int
        Filters and square kernel sizes of the four convolutions.
    cnn_dense_units : int
        The CNN's first dense layer.
    cnn_out_features : int
        The CNN's last dense layer (32 in kang2023).
    cnn_dropout : float
        Dropout rate inside the CNN branch.

    Returns
    -------
    Kang2023Compound

    Examples
    --------
    >>> net = kang2023_compound(num_outputs=3)
    >>> batch = {"seq": torch.zeros(2, 5, 3), "mask": torch.ones(2, 5),
    ...          "features": torch.zeros(2, 2),
    ...          "folded_image": torch.zeros(2, 1, 128, 128)}
    >>> tuple(net(batch).shape)
    (2, 3)
    """
    rnn = Kang2023RNN(
        num_outputs=num_outputs,
        seq_channels=seq_channels,
        num_features=num_features,
        gru_units=gru_units,
        dense_units=dense_units,
        feature_units=feature_units,
        dropout=dropout,
    )
    cnn = Szklenar2022CNN(
        in_channels=image_channels,
        filters=cnn_filters,
        kernels=cnn_kernels,
        dense_units=cnn_dense_units,
        out_features=cnn_out_features,
        dropout=cnn_dropout,
    )
    return Kang2023Compound(rnn=rnn, cnn=cnn, num_outputs=num_outputs)
