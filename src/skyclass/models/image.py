"""Image classifiers for multi-band cutouts: gao2023's ResNet50-GQS and the nets it compared.

Every model reads ``image`` (B, in_channels, image_size, image_size) — gri or RGB
cutouts (``in_channels=3``, the default) or ugriz (5) — and returns
(B, num_outputs) logits. The defaults are gao2023's setting: 50×50 cutouts, three
classes (galaxy, quasar, star), trained from scratch; a model refuses an input of
another size or band count. Registered names: ``gao2023_resnet50_gqs``,
``resnet18`` / ``34`` / ``50`` and each with ``_se``, ``_eca`` or ``_cbam``
attention, ``vgg16``, ``googlenet``, ``mobilenetv2``, ``densenet121``,
``efficientnet_b0``, ``vit_b16`` (5×5 patches), ``swin_t`` and ``convnext_t``, in
plain PyTorch (no ImageNet weights). :func:`parameter_counts` gives their sizes.
The architectures, their parameter counts against the published ones, how each
keeps its strides on 50×50 cutouts and gao2023's training settings are in the user
guide (docs/guide/cutouts.md).

Examples
--------
>>> import torch
>>> from skyclass.models import create_model
>>> net = create_model("resnet18", num_outputs=3).eval()
>>> net({"image": torch.rand(2, 3, 50, 50)}).shape
torch.Size([2, 3])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from skyclass.models.registry import create_model, get_model_spec, list_models, register_model

__all__ = [
    "CBAM",
    "CutoutNet",
    "EfficientChannelAttention",
    "ResNet",
    "SqueezeExcite",
    "convnext_t",
    "densenet121",
    "efficientnet_b0",
    "gao2023_resnet50_gqs",
    "googlenet",
    "mobilenetv2",
    "parameter_counts",
    "shifted_window_mask",
    "swin_t",
    "vgg16",
    "vit_b16",
]

GAO2023 = (
    "Gao et al. (2023), Automatic classification algorithm of astronomical objects based on "
    "improved ResNet (ResNet50-GQS)"
)
INPUT = ("image",)
#: The options a batch of cutouts (N, channels, size, size) fixes.
SHAPES = {"in_channels": ("image", 1), "image_size": ("image", 3)}


# ------------------------------------------------------------------ the base
class CutoutNet(nn.Module):
    """Base of every image model: checks ``batch["image"]``, then features → head.

    Subclasses build ``self.head`` and implement :meth:`forward_features`, which
    maps (B, C, H, W) to pooled features (B, F).
    """

    #: smallest cutout side the net's down-sampling leaves at least one pixel of
    min_size = 1

    def __init__(self, *, num_outputs: int, in_channels: int, image_size: int) -> None:
        super().__init__()
        for name, value in (
            ("num_outputs", num_outputs),
            ("in_channels", in_channels),
            ("image_size", image_size),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if image_size < self.min_size:
            raise ValueError(
                f"{type(self).__name__} needs cutouts of at least {self.min_size}×{self.min_size} "
                f"pixels (its down-sampling), got image_size={image_size}; resample the cutouts "
                "(skyclass.augment.ImageAugment(size=...)) or choose another model"
            )
        self.shape = (in_channels, image_size, image_size)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x = batch["image"]
        if x.ndim != 4 or tuple(x.shape[1:]) != self.shape:
            raise ValueError(
                f"batch['image'] has shape {tuple(x.shape)}; this model was built for "
                f"(B, {', '.join(map(str, self.shape))}) (set in_channels and image_size to "
                "match the cutouts)"
            )
        return self.head(self.forward_features(x))


def _pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Zero-pad the last two axes, centred, up to a multiple of ``multiple``."""
    pads = []
    for size in (x.shape[-1], x.shape[-2]):
        extra = -size % multiple
        pads += [extra // 2, extra - extra // 2]
    return F.pad(x, pads) if any(pads) else x


def _conv_bn(
    cin: int,
    cout: int,
    kernel: int,
    *,
    stride: int = 1,
    groups: int = 1,
    act: Callable[[], nn.Module] | None = nn.ReLU,
) -> nn.Sequential:
    """Convolution ('same'-style padding, no bias) → batch norm → activation."""
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


def _shortcut(cin: int, cout: int, stride: int) -> nn.Module:
    """ResNet's shortcut: identity, or a strided 1×1 projection with batch norm."""
    if stride == 1 and cin == cout:
        return nn.Identity()
    return _conv_bn(cin, cout, 1, stride=stride, act=None)


def _init_cnn(module: nn.Module) -> None:
    """He-normal (fan-out) convolutions, N(0, 0.01) linear layers, unit batch norms.

    torchvision's ResNet initialisation, with the fan-out of a grouped
    (depthwise) convolution counted per group as timm's EfficientNet does: else
    every depthwise layer shrinks the signal by its channel count.
    """
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            fan_out = m.out_channels * math.prod(m.kernel_size) // m.groups
            nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_out))
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.01)
        elif isinstance(m, nn.BatchNorm2d | nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
            continue
        else:
            continue
        if m.bias is not None:
            nn.init.zeros_(m.bias)


def _init_transformer(module: nn.Module) -> None:
    """ViT / Swin / ConvNeXt initialisation: truncated N(0, 0.02) weights, zero biases."""
    for m in module.modules():
        if isinstance(m, nn.Linear | nn.Conv2d):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class _DropPath(nn.Module):
    """Stochastic depth: drop a residual branch per sample while training."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        shape = (x.shape[0],) + (1,) * (x.ndim - 1)
        return x * x.new_empty(shape).bernoulli_(keep) / keep


def _drop_rates(total: float, n: int) -> list[float]:
    """Stochastic-depth rates rising linearly from 0 to ``total`` over ``n`` blocks."""
    return [total * i / max(n - 1, 1) for i in range(n)]


# ---------------------------------------------------------------- attention
class SqueezeExcite(nn.Module):
    """Squeeze-and-Excitation (Hu et al. 2018): channel weights from pooled features.

    Global average pool → 1×1 conv to ``hidden`` → activation → 1×1 conv back →
    sigmoid → rescale the channels.

    Parameters
    ----------
    channels : int
        Channels of the map to rescale.
    hidden : int, optional
        Width of the bottleneck (``channels // 16``, at least 1, by default: the
        SE-ResNet reduction ratio).
    act : callable
        Activation class of the bottleneck (ReLU; EfficientNet uses SiLU).

    Examples
    --------
    >>> se = SqueezeExcite(32)
    >>> tuple(se(torch.ones(2, 32, 5, 5)).shape)
    (2, 32, 5, 5)
    """

    def __init__(
        self, channels: int, hidden: int | None = None, *, act: Callable[[], nn.Module] = nn.ReLU
    ) -> None:
        super().__init__()
        hidden = max(1, channels // 16) if hidden is None else hidden
        self.reduce = nn.Conv2d(channels, hidden, 1)
        self.act = act()
        self.expand = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.expand(self.act(self.reduce(x.mean((2, 3), keepdim=True))))
        return x * torch.sigmoid(w)


class EfficientChannelAttention(nn.Module):
    """Efficient Channel Attention (Wang et al. 2020): a 1-D conv across pooled channels.

    The kernel size follows the paper's rule ``k = |log2(C)/γ + b/γ|`` rounded up to
    an odd number, with γ = 2 and b = 1 (k = 3 for 64 channels, 5 for 256–512,
    7 for 2048).

    Examples
    --------
    >>> eca = EfficientChannelAttention(256)
    >>> eca.conv.kernel_size, tuple(eca(torch.ones(1, 256, 3, 3)).shape)
    ((5,), (1, 256, 3, 3))
    """

    def __init__(self, channels: int, *, gamma: int = 2, b: int = 1) -> None:
        super().__init__()
        k = int(abs((math.log2(channels) + b) / gamma))
        k = k if k % 2 else k + 1
        self.conv = nn.Conv1d(1, 1, k, padding=k // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.conv(x.mean((2, 3))[:, None, :])  # (B, 1, C)
        return x * torch.sigmoid(w)[:, 0, :, None, None]


class CBAM(nn.Module):
    """Convolutional Block Attention Module (Woo et al. 2018): channel, then spatial.

    Channel attention: average- and max-pooled vectors through one shared MLP
    (reduction 16), summed, sigmoid. Spatial attention: the channel mean and max
    maps, concatenated, through a 7×7 convolution and a sigmoid.

    Examples
    --------
    >>> cbam = CBAM(64)
    >>> tuple(cbam(torch.ones(2, 64, 13, 13)).shape)
    (2, 64, 13, 13)
    """

    def __init__(self, channels: int, *, reduction: int = 16, kernel: int = 7) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=False),
            nn.ReLU(),
            nn.Conv2d(hidden, channels, 1, bias=False),
        )
        self.spatial = nn.Conv2d(2, 1, kernel, padding=kernel // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        avg = self.mlp(x.mean((2, 3), keepdim=True))
        peak = self.mlp(x.amax((2, 3), keepdim=True))
        x = x * torch.sigmoid(avg + peak)
        maps = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.spatial(maps))


# ------------------------------------------------------------------- ResNets
class _ResidualBlock(nn.Module):
    """ResNet's basic block (two 3×3) or bottleneck (1×1, 3×3 with the stride, 1×1 to 4×).

    The attention module (identity, SE or ECA) rescales the residual branch
    after its last convolution, before the addition.
    """

    def __init__(
        self, cin: int, width: int, stride: int, *, bottleneck: bool, attention: str
    ) -> None:
        super().__init__()
        out = 4 * width if bottleneck else width
        if bottleneck:
            body = [
                _conv_bn(cin, width, 1),
                _conv_bn(width, width, 3, stride=stride),
                _conv_bn(width, out, 1, act=None),
            ]
        else:
            body = [_conv_bn(cin, width, 3, stride=stride), _conv_bn(width, width, 3, act=None)]
        self.body = nn.Sequential(*body)
        self.attention = _BLOCK_ATTENTION[attention](out)
        self.shortcut = _shortcut(cin, out, stride)
        self.out_channels = out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.attention(self.body(x)) + self.shortcut(x))


#: depth → (bottleneck blocks?, blocks per stage)
_RESNET_DEPTHS: dict[int, tuple[bool, tuple[int, ...]]] = {
    18: (False, (2, 2, 2, 2)),
    34: (False, (3, 4, 6, 3)),
    50: (True, (3, 4, 6, 3)),
}


def _no_attention(channels: int) -> nn.Module:
    return nn.Identity()


#: where each attention goes, as gao2023 put them: SE and ECA inside every
#: residual block, after its last convolution; CBAM after the stem and on the
#: last map before the classifier
_BLOCK_ATTENTION: dict[str, Callable[[int], nn.Module]] = {
    "none": _no_attention,
    "se": SqueezeExcite,
    "eca": EfficientChannelAttention,
    "cbam": _no_attention,
}
_NET_ATTENTION: dict[str, Callable[[int], nn.Module]] = {
    "none": _no_attention,
    "se": _no_attention,
    "eca": _no_attention,
    "cbam": CBAM,
}


def _imagenet_stem(cin: int) -> nn.Sequential:
    """7×7/2 convolution (64) → BN → ReLU → 3×3/2 max-pool: ResNet's and DenseNet's stem."""
    return nn.Sequential(*_conv_bn(cin, 64, 7, stride=2), nn.MaxPool2d(3, 2, 1))


def _small_stem(cin: int) -> nn.Sequential:
    return _conv_bn(cin, 64, 3)


_RESNET_STEMS: dict[str, Callable[[int], nn.Module]] = {
    "imagenet": _imagenet_stem,
    "small": _small_stem,
}


class ResNet(CutoutNet):
    """ResNet-18/34/50 with optional SE, ECA or CBAM attention (gao2023 section 2.3).

    Parameters
    ----------
    depth : {18, 34, 50}
        Basic blocks (2-2-2-2, 3-4-6-3) or bottlenecks (3-4-6-3).
    attention : {"none", "se", "eca", "cbam"}
        SE or ECA after the last convolution of every block (before the
        addition); CBAM after the stem and on the last map before the pooling.
    stem : {"imagenet", "small"}
        7×7/2 convolution + 3×3/2 max-pool (the published stem, gao2023's), or
        a 3×3 stride-1 convolution without pooling.
    num_outputs, in_channels, image_size : int
        As for every image model.

    Examples
    --------
    >>> net = ResNet(depth=18, attention="eca", num_outputs=3, in_channels=5, image_size=50)
    >>> tuple(net({"image": torch.zeros(2, 5, 50, 50)}).shape)
    (2, 3)
    """

    def __init__(
        self,
        *,
        depth: int,
        attention: str = "none",
        stem: str = "imagenet",
        num_outputs: int,
        in_channels: int,
        image_size: int,
    ) -> None:
        super().__init__(num_outputs=num_outputs, in_channels=in_channels, image_size=image_size)
        for option, value, choices in (
            ("depth", depth, _RESNET_DEPTHS),
            ("attention", attention, _BLOCK_ATTENTION),
            ("stem", stem, _RESNET_STEMS),
        ):
            if value not in choices:
                raise ValueError(
                    f"{option} must be one of {', '.join(map(repr, choices))}, got {value!r}"
                )
        bottleneck, layers = _RESNET_DEPTHS[depth]
        self.stem = _RESNET_STEMS[stem](in_channels)
        self.stem_attention = _NET_ATTENTION[attention](64)
        stages: list[nn.Module] = []
        cin = 64
        for i, (n, width) in enumerate(zip(layers, (64, 128, 256, 512), strict=True)):
            blocks = []
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                block = _ResidualBlock(
                    cin, width, stride, bottleneck=bottleneck, attention=attention
                )
                blocks.append(block)
                cin = block.out_channels
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.final_attention = _NET_ATTENTION[attention](cin)
        self.head = nn.Linear(cin, num_outputs)
        _init_cnn(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem_attention(self.stem(x)))
        return self.final_attention(x).mean((2, 3))


def _register_resnet(depth: int, attention: str) -> Callable[..., ResNet]:
    """Register ``resnet{depth}[_{attention}]`` with the options every image model takes."""
    name = f"resnet{depth}" + ("" if attention == "none" else f"_{attention}")

    def factory(
        *,
        num_outputs: int = 3,
        in_channels: int = 3,
        image_size: int = 50,
        stem: str = "imagenet",
    ) -> ResNet:
        return ResNet(
            depth=depth,
            attention=attention,
            stem=stem,
            num_outputs=num_outputs,
            in_channels=in_channels,
            image_size=image_size,
        )

    factory.__name__ = factory.__qualname__ = name
    factory.__doc__ = (
        f"ResNet-{depth}"
        + ("" if attention == "none" else f" with {attention.upper()} attention")
        + " for cutouts; see :class:`ResNet` (this is ``ResNet(depth="
        + f"{depth}, attention={attention!r}, ...)``)."
    )
    return register_model(name, input_keys=INPUT, shapes=SHAPES, paper=GAO2023)(factory)


for _depth in _RESNET_DEPTHS:
    for _attention in _BLOCK_ATTENTION:
        _register_resnet(_depth, _attention)


# --------------------------------------------------------------- ResNet50-GQS
class _GQSUnit(nn.Module):
    """gao2023's improved residual unit (Fig. 8): 3×3 → BN → 1×1 (4×) → ReLU → 1×1 → SE."""

    def __init__(self, cin: int, width: int, stride: int) -> None:
        super().__init__()
        out = 4 * width
        self.conv1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
        self.norm = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, out, 1)
        self.conv3 = nn.Conv2d(out, out, 1)
        self.se = SqueezeExcite(out)
        self.shortcut = _shortcut(cin, out, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.conv2(self.norm(self.conv1(x))))
        return self.se(self.conv3(y)) + self.shortcut(x)


class ResNet50GQS(CutoutNet):
    """ResNet50-GQS; see :func:`gao2023_resnet50_gqs`."""

    def __init__(self, *, num_outputs: int, in_channels: int, image_size: int) -> None:
        super().__init__(num_outputs=num_outputs, in_channels=in_channels, image_size=image_size)
        self.stem = nn.Conv2d(in_channels, 96, 4, stride=4, padding=2)
        stages: list[nn.Module] = []
        cin = 96
        for i, (n, width) in enumerate(zip((3, 4, 6, 3), (96, 192, 384, 768), strict=True)):
            units = []
            for j in range(n):
                units.append(_GQSUnit(cin, width, 2 if i > 0 and j == 0 else 1))
                cin = 4 * width
            stages.append(nn.Sequential(*units))
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(cin, num_outputs)
        _init_cnn(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(x)).mean((2, 3))


@register_model("gao2023_resnet50_gqs", input_keys=INPUT, shapes=SHAPES, paper=GAO2023)
def gao2023_resnet50_gqs(
    *, num_outputs: int = 3, in_channels: int = 3, image_size: int = 50
) -> ResNet50GQS:
    """ResNet50-GQS, gao2023's improved ResNet-50 for galaxy / quasar / star cutouts.

    From the paper (section 2.3, Table 2, Fig. 8):

    * stem: one 4×4 convolution, stride 4, padding 2, 96 channels
      (50×50 → 13×13; Table 2's padding — without it the map would be 12×12);
    * four stages of 3, 4, 6 and 3 improved residual units whose first
      convolution has 96, 192, 384 and 768 channels; each unit is
      3×3 conv (width w) → BN → 1×1 conv (4w) → ReLU → 1×1 conv (4w) → SE,
      added to the shortcut, so the stages output 384, 768, 1536 and 3072
      channels on 13×13, 7×7, 4×4 and 2×2 maps (Table 2; its "13×13×96" for
      the first stage must read 384, as the next stage's 768 = 4 × 192 shows);
    * global average pool → fully connected layer to ``num_outputs`` (3).

    Where the paper is silent we chose:

    * the first unit of stages 2–4 down-samples with stride 2 on its 3×3
      convolution (which gives Table 2's 13 → 7 → 4 → 2); the shortcuts of
      these units and of the first unit of stage 1 (96 → 384 channels) are
      ResNet's projection, a strided 1×1 convolution + BN; the others are
      identities;
    * no activation after the addition (the paper keeps a single ReLU per unit)
      and no normalisation after the stem (Table 2 lists none);
    * the 3×3 convolution is a dense one (Table 2 changes the channel count
      through it, so it cannot be depthwise), which is why the net is large;
    * SE reduction ratio 16 (Hu et al.); biases on the 1×1 convolutions and
      the stem, which no BN follows; He-normal initialisation.

    156.3 M parameters for 3 classes: 96.8 M in the last stage, 53.1 M of them in
    its three 3×3 convolutions.

    Parameters
    ----------
    num_outputs : int
        Classes (galaxy, quasar, star in the paper).
    in_channels : int
        Bands of the cutout (3 for gri / RGB, 5 for ugriz).
    image_size : int
        Side of the square cutouts (50 in the paper).

    Returns
    -------
    ResNet50GQS
        Maps ``{"image": (B, in_channels, image_size, image_size)}`` to
        (B, num_outputs) logits. Train as the paper: Adam, lr 1e-4, batch 256,
        60 epochs, cross-entropy.

    Examples
    --------
    >>> with torch.device("meta"):  # shapes only, no weights drawn
    ...     net = gao2023_resnet50_gqs()
    ...     maps = net.stages(net.stem(torch.empty(1, 3, 50, 50)))
    >>> tuple(maps.shape)  # what the global average pool reads
    (1, 3072, 2, 2)
    """
    return ResNet50GQS(num_outputs=num_outputs, in_channels=in_channels, image_size=image_size)


# ---------------------------------------------------------------------- VGG
class VGG16(CutoutNet):
    """VGG-16 (configuration D), no batch norm; see :func:`vgg16`."""

    min_size = 32  # five 2×2 max-pools

    def __init__(self, *, num_outputs: int, in_channels: int, image_size: int) -> None:
        super().__init__(num_outputs=num_outputs, in_channels=in_channels, image_size=image_size)
        layers: list[nn.Module] = []
        cin = in_channels
        for n, width in ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)):
            for _ in range(n):
                layers += [nn.Conv2d(cin, width, 3, padding=1), nn.ReLU()]
                cin = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(7), nn.Flatten())
        self.head = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, num_outputs),
        )
        _init_cnn(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


@register_model("vgg16", input_keys=INPUT, shapes=SHAPES, paper=GAO2023)
def vgg16(*, num_outputs: int = 3, in_channels: int = 3, image_size: int = 50) -> VGG16:
    """VGG-16 (Simonyan & Zisserman 2015), one of gao2023's nine baselines.

    Thirteen 3×3 convolutions with ReLU in five blocks (64, 128, 256, 512, 512
    channels) each closed by a 2×2 max-pool, then fully connected 4096 → 4096 →
    ``num_outputs`` with dropout 0.5. A 50×50 cutout leaves a 1×1×512 map, which
    an adaptive average pool to 7×7 (torchvision's way of taking any input size)
    spreads out so the first dense layer keeps its published 25088 inputs and
    the model its published size (134.3 M parameters with 3 outputs).

    Parameters
    ----------
    num_outputs, in_channels, image_size : int
        As for :func:`gao2023_resnet50_gqs`; ``image_size`` ≥ 32.

    Returns
    -------
    VGG16

    Examples
    --------
    >>> with torch.device("meta"):  # shapes only, no weights drawn
    ...     net = vgg16()
    ...     features = net.forward_features(torch.empty(1, 3, 50, 50))
    >>> tuple(features.shape)  # the 1×1×512 map spread to 7×7 for the classifier
    (1, 25088)
    """
    return VGG16(num_outputs=num_outputs, in_channels=in_channels, image_size=image_size)


# ---------------------------------------------------------------- GoogLeNet
class _Inception(nn.Module):
    """Four branches: 1×1; 1×1 → 3×3; 1×1 → 5×5; 3×3 max-pool → 1×1; concatenated."""

    def __init__(self, cin: int, c1: int, c3r: int, c3: int, c5r: int, c5: int, pool: int):
        super().__init__()
        self.branches = nn.ModuleList(
            [
                _conv_bn(cin, c1, 1),
                nn.Sequential(_conv_bn(cin, c3r, 1), _conv_bn(c3r, c3, 3)),
                nn.Sequential(_conv_bn(cin, c5r, 1), _conv_bn(c5r, c5, 5)),
                nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), _conv_bn(cin, pool, 1)),
            ]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=1)


_GOOGLENET = (  # Szegedy et al. 2015, Table 1; "M3" / "M2": 3×3/2 and 2×2/2 max-pools
    (192, 64, 96, 128, 16, 32, 32),
    (256, 128, 128, 192, 32, 96, 64),
    "M3",
    (480, 192, 96, 208, 16, 48, 64),
    (512, 160, 112, 224, 24, 64, 64),
    (512, 128, 128, 256, 24, 64, 64),
    (512, 112, 144, 288, 32, 64, 64),
    (528, 256, 160, 320, 32, 128, 128),
    "M2",
    (832, 256, 160, 320, 32, 128, 128),
    (832, 384, 192, 384, 48, 128, 128),
)


class GoogLeNet(CutoutNet):
    """GoogLeNet / Inception v1; see :func:`googlenet`."""

    min_size = 15  # four max-pools in ceil mode

    def __init__(self, *, num_outputs: int, in_channels: int, image_size: int) -> None:
        super().__init__(num_outputs=num_outputs, in_channels=in_channels, image_size=image_size)
        layers: list[nn.Module] = [
            _conv_bn(in_channels, 64, 7, stride=2),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            _conv_bn(64, 64, 1),
            _conv_bn(64, 192, 3),
            nn.MaxPool2d(3, 2, ceil_mode=True),
        ]
        for spec in _GOOGLENET:
            if isinstance(spec, str):
                layers.append(nn.MaxPool2d(int(spec[1]), 2, ceil_mode=True))
            else:
                layers.append(_Inception(*spec))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(0.4), nn.Linear(1024, num_outputs))
        _init_cnn(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).mean((2, 3))


@register_model("googlenet", input_keys=INPUT, shapes=SHAPES, paper=GAO2023)
def googlenet(*, num_outputs: int = 3, in_channels: int = 3, image_size: int = 50) -> GoogLeNet:
    """GoogLeNet (Szegedy et al. 2015), one of gao2023's nine baselines.

    The published layers (their Table 1): 7×7/2 convolution, 3×3/2 max-pool,
    1×1 and 3×3 convolutions, max-pool, inception 3a–3b, max-pool, 4a–4e,
    max-pool (2×2/2 here, as torchvision's, which leaves a 2×2 map of a 50×50
    cutout), 5a–5b, global average pool, dropout 0.4, linear. As in torchvision,
    batch norm follows every convolution in place of local response
    normalisation, and there are no auxiliary classifiers; unlike torchvision,
    the third branch has the published 5×5 convolutions (torchvision's are 3×3).

    Parameters
    ----------
    num_outputs, in_channels, image_size : int
        As for :func:`gao2023_resnet50_gqs`.

    Returns
    -------
    GoogLeNet

    Examples
    --------
    >>> net = googlenet(num_outputs=3)
    >>> tuple(net({"image": torch.zeros(2, 3, 50, 50)}).shape)
    (2, 3)
    """
    return GoogLeNet(num_outputs=num_outputs, in_channels=in_channels, image_size=image_size)


# ------------------------------------------- MobileNetV2 and EfficientNet-B0
class _InvertedResidual(nn.Module):
    """MobileNetV2's inverted residual, which EfficientNet's MBConv extends with SE.

    1×1 expansion (skipped at ratio 1) → depthwise k×k → [SE] → 1×1 linear
    projection; the input is added back when shapes allow.
    """

    def __init__(
        self,
        cin: int,
        cout: int,
        *,
        expand: int,
        kernel: int,
        stride: int,
        act: Callable[[], nn.Module],
        se: bool = False,
        drop_path: float = 0.0,
    ) -> None:
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = [] if expand == 1 else [_conv_bn(cin, hidden, 1, act=act)]
        layers.append(_conv_bn(hidden, hidden, kernel, stride=stride, groups=hidden, act=act))
        if se:  # EfficientNet: squeeze to a quarter of the block's input channels
            layers.append(SqueezeExcite(hidden, max(1, cin // 4), act=nn.SiLU))
        layers.append(_conv_bn(hidden, cout, 1, act=None))
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout
        self.drop_path = _DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + self.drop_path(y) if self.residual else y


class _MobileNet(CutoutNet):
    """A stem, a list of inverted-residual stages, a 1×1 head convolution, pooling."""

    def __init__(
        self,
        *,
        num_outputs: int,
        in_channels: int,
        image_size: int,
        stages: Sequence[tuple[int, int, int, int, int]],
        act: Callable[[], nn.Module],
        se: bool,
        drop_path: float,
        dropout: float,
    ) -> None:
        super().__init__(num_outputs=num_outputs, in_channels=in_channels, image_size=image_size)
        layers: list[nn.Module] = [_conv_bn(in_channels, 32, 3, stride=2, act=act)]
        rates = iter(_drop_rates(drop_path, sum(s[2] for s in stages)))
        cin = 32
        for expand, cout, n, stride, kernel in stages:
            for j in range(n):
                layers.append(
                    _InvertedResidual(
                        cin,
                        cout,
                        expand=expand,
                        kernel=kernel,
                        stride=stride if j == 0 else 1,
                        act=act,
                        se=se,
                        drop_path=next(rates),
                    )
                )
                cin = cout
        layers.append(_conv_bn(cin, 1280, 1, act=act))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(1280, num_outputs))
        _init_cnn(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).mean((2, 3))


# (expansion t, channels c, repeats n, stride s, kernel k) per stage
_MOBILENETV2 = (
    (1, 16, 1, 1, 3),
    (6, 24, 2, 2, 3),
    (6, 32, 3, 2, 3),
    (6, 64, 4, 2, 3),
    (6, 96, 3, 1, 3),
    (6, 160, 3, 2, 3),
    (6, 320, 1, 1, 3),
)
_EFFICIENTNET_B0 = (
    (1, 16, 1, 1, 3),
    (6, 24, 2, 2, 3),
    (6, 40, 2, 2, 5),
    (6, 80, 3, 2, 3),
    (6, 112, 3, 1, 5),
    (6, 192, 4, 2, 5),
    (6, 320, 1, 1, 3),
)


@register_model("mobilenetv2", input_keys=INPUT, shapes=SHAPES, paper=GAO2023)
def mobilenetv2(*, num_outputs: int = 3, in_channels: int = 3, image_size: int = 50) -> nn.Module:
    """MobileNetV2, width 1.0 (Sandler et al. 2018), one of gao2023's nine baselines.

    3×3/2 stem (32), seventeen inverted residuals (their Table 2), 1×1 conv to
    1280, global average pool, dropout 0.2, linear; ReLU6 activations.

    Parameters
    ----------
    num_outputs, in_channels, image_size : int
        As for :func:`gao2023_resnet50_gqs`.

    Returns
    -------
    torch.nn.Module

    Examples
    --------
    >>> net = mobilenetv2(num_outputs=3, in_channels=5)
    >>> tuple(net({"image": torch.zeros(2, 5, 50, 50)}).shape)
    (2, 3)
    """
    return _MobileNet(
        num_outputs=num_outputs,
        in_channels=in_channels,
        image_size=image_size,
        stages=_MOBILENETV2,
        act=nn.ReLU6,
        se=False,
        drop_path=0.0,
        dropout=0.2,
    )


@register_model("efficientnet_b0", input_keys=INPUT, shapes=SHAPES, paper=GAO2023)
def efficientnet_b0(
    *, num_outputs: int = 3, in_channels: int = 3, image_size: int = 50
) -> nn.Module:
    """EfficientNet-B0 (Tan & Le 2019), one of gao2023's nine baselines.

    3×3/2 stem (32), sixteen MBConv blocks (their Table 1) with squeeze-excitation
    (a quarter of the block's input channels) and SiLU, 1×1 conv to 1280, global
    average pool, dropout 0.2, linear. Stochastic depth rises to 0.2 over the
    blocks (the reference implementation's rate).

    Parameters
    ----------
    num_outputs, in_channels, image_size : int
        As for :func:`gao2023_resnet50_gqs`.

    Returns
    -------
    torch.nn.Module

    Examples
    --------
    >>> net = efficientnet_b0(num_outputs=3)
    >>> tuple(net({"image": torch.zeros(2, 3, 50, 50)}).shape)
    (2, 3)
    """
    return _MobileNet(
        num_outputs=num_outputs,
        in_channels=in_channels,
        image_size=image_size,
        stages=_EFFICIENTNET_B0,
        act=nn.SiLU,
        se=True,
        drop_path=0.2,
        dropout=0.2,
    )


# ----------------------------------------------------------------- DenseNet
class _DenseLayer(nn.Module):
    """BN → ReLU → 1×1 (4k) → BN → ReLU → 3×3 (k), appended to its input."""

    def __init__(self, cin: int, growth: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(cin),
            nn.ReLU(),
            nn.Conv2d(cin, 4 * growth, 1, bias=False),
            nn.BatchNorm2d(4 * growth),
            nn.ReLU(),
            nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.body(x)], dim=1)


class DenseNet121(CutoutNet):
    """DenseNet-121; see :func:`densenet121`."""

    min_size = 29  # the stem and three 2×2 average pools divide by 32

    def __init__(self, *, num_outputs: int, in_channels: int, image_size: int) -> None:
        super().__init__(num_outputs=num_outputs, in_channels=in_channels, image_size=image_size)
        growth = 32
        layers: list[nn.Module] = [_imagenet_stem(in_channels)]
        cin = 64
        for i, n in enumerate((6, 12, 24, 16)):
            for _ in range(n):
                layers.append(_DenseLayer(cin, growth))
                cin += growth
            if i < 3:  # transition: halve the channels and the map
                layers += [
                    nn.BatchNorm2d(cin),
                    nn.ReLU(),
                    nn.Conv2d(cin, cin // 2, 1, bias=False),
                    nn.AvgPool2d(2),
                ]
                cin //= 2
        layers += [nn.BatchNorm2d(cin), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(cin, num_outputs)
        _init_cnn(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).mean((2, 3))


@register_model("densenet121", input_keys=INPUT, shapes=SHAPES, paper=GAO2023)
def densenet121(*, num_outputs: int = 3, in_channels: int = 3, image_size: int = 50) -> DenseNet121:
    """DenseNet-121 (Huang et al. 2017, DenseNet-BC), one of gao2023's nine baselines.

    7×7/2 stem (64) and 3×3/2 max-pool; dense blocks of 6, 12, 24 and 16
    bottleneck layers with growth rate 32, transitions halving channels
    (compression 0.5) with 2×2 average pools; final BN-ReLU, global average
    pool, linear.

    Parameters
    ----------
    num_outputs, in_channels, image_size : int
        As for :func:`gao2023_resnet50_gqs`; ``image_size`` ≥ 29.

    Returns
    -------
    DenseNet121

    Examples
    --------
    >>> with torch.device("meta"):  # shapes only, no weights drawn
    ...     net = densenet121(in_channels=5)
    ...     maps = net.features(torch.empty(2, 5, 50, 50))
    >>> tuple(maps.shape)
    (2, 1024, 1, 1)
    """
    return DenseNet121(num_outputs=num_outputs, in_channels=in_channels, image_size=image_size)


# ------------------------------------------------------------- transformers
class _Mlp(nn.Sequential):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))


class _Attention(nn.Module):
    """Multi-head self-attention over the second-to-last axis, with an optional additive bias."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        *lead, t, c = x.shape
        qkv = self.qkv(x).reshape(*lead, t, 3, self.heads, c // self.heads)
        q, k, v = qkv.movedim(-3, 0).transpose(-2, -3)  # each (*lead, heads, t, d)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        return self.proj(out.transpose(-2, -3).reshape(*lead, t, c))


class _EncoderBlock(nn.Module):
    """Pre-norm transformer block: x + attention(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, dim: int, heads: int, *, drop_path: float = 0.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = _Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = _Mlp(dim, 4 * dim)
        self.drop_path = _DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class ViT(CutoutNet):
    """Vision Transformer; see :func:`vit_b16`."""

    def __init__(
        self,
        *,
        num_outputs: int,
        in_channels: int,
        image_size: int,
        patch_size: int,
        dim: int = 768,
        depth: int = 12,
        heads: int = 12,
    ) -> None:
        super().__init__(num_outputs=num_outputs, in_channels=in_channels, image_size=image_size)
        if not isinstance(patch_size, int) or not 1 <= patch_size <= image_size:
            raise ValueError(
                f"patch_size must be an integer in [1, image_size], got {patch_size!r}"
            )
        self.patch_size = patch_size
        tokens = math.ceil(image_size / patch_size) ** 2
        self.patch_embed = nn.Conv2d(in_channels, dim, patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens + 1, dim))
        self.blocks = nn.Sequential(*(_EncoderBlock(dim, heads) for _ in range(depth)))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, num_outputs)
        _init_transformer(self)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(_pad_to_multiple(x, self.patch_size)).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        return self.norm(self.blocks(x))[:, 0]


@register_model("vit_b16", input_keys=INPUT, shapes=SHAPES, paper=GAO2023)
def vit_b16(
    *, num_outputs: int = 3, in_channels: int = 3, image_size: int = 50, patch_size: int = 5
) -> ViT:
    """ViT-Base (Dosovitskiy et al. 2021), gao2023's "VIT_base_patch16" baseline.

    The ViT-B encoder — 12 pre-norm blocks, width 768, 12 heads, MLP 3072, GELU,
    learned position embeddings and a class token read by the linear head —
    on patches sized for cutouts: 16×16 patches would cut a 50×50 cutout into
    nine tokens, so the default is 5×5 (100 tokens). No dropout (timm's
    default); 85.2 M parameters.

    Parameters
    ----------
    num_outputs, in_channels, image_size : int
        As for :func:`gao2023_resnet50_gqs`.
    patch_size : int
        Side of the square patches; the image is zero-padded (centred) to a
        multiple of it. 16 gives the published ViT-B/16 embedding (on a
        50×50 cutout padded to 64×64: 16 tokens).

    Returns
    -------
    ViT

    Examples
    --------
    >>> with torch.device("meta"):  # shapes only, no weights drawn
    ...     net = vit_b16()
    ...     logits = net({"image": torch.empty(2, 3, 50, 50)})
    >>> tuple(logits.shape), net.pos_embed.shape[1]  # 10×10 patches + the class token
    ((2, 3), 101)
    """
    return ViT(
        num_outputs=num_outputs,
        in_channels=in_channels,
        image_size=image_size,
        patch_size=patch_size,
    )


# ------------------------------------------------------------------- Swin-T
def _window_partition(x: torch.Tensor, w: int) -> torch.Tensor:
    """(B, H, W, C) with H, W multiples of w → (B, windows, w·w, C)."""
    b, h, wd, c = x.shape
    x = x.reshape(b, h // w, w, wd // w, w, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b, (h // w) * (wd // w), w * w, c)


def _window_merge(x: torch.Tensor, w: int, h: int, wd: int) -> torch.Tensor:
    """Inverse of :func:`_window_partition` for an (h, wd) map."""
    b, c = x.shape[0], x.shape[-1]
    x = x.reshape(b, h // w, wd // w, w, w, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b, h, wd, c)


def shifted_window_mask(h: int, wd: int, w: int, shift: int) -> torch.Tensor | None:
    """Additive mask (windows, w², w²) keeping attention inside one region of real pixels.

    The (h, wd) map is padded to multiples of ``w`` and rolled by ``-shift``;
    tokens may attend to each other only when they come from the same region
    of the rolled map (Swin's shifted-window mask) and are both padding or
    both real (so real tokens never see the padding).

    Parameters
    ----------
    h, wd : int
        Height and width of the token map.
    w : int
        Window side.
    shift : int
        Roll of the map (``w // 2`` in a shifted block, 0 in a plain one).

    Returns
    -------
    torch.Tensor or None
        0 where attention is allowed, -1e4 where not, one (w², w²) block per
        window in row-major order; None when nothing is masked (no shift, no padding).

    Examples
    --------
    >>> mask = shifted_window_mask(4, 4, 2, 1)
    >>> mask.shape, (mask[3] == 0).sum().item()   # the last window: four tokens alone
    (torch.Size([4, 4, 4]), 4)
    >>> shifted_window_mask(4, 4, 2, 0) is None
    True
    """
    hp, wp = h + (-h % w), wd + (-wd % w)
    if shift == 0 and (hp, wp) == (h, wd):
        return None
    labels = torch.zeros(hp, wp)
    if shift:
        cuts = (slice(0, -w), slice(-w, -shift), slice(-shift, None))
        for i, rows in enumerate(cuts):
            for j, cols in enumerate(cuts):
                labels[rows, cols] = 3 * i + j
    padded = torch.ones(hp, wp)
    padded[:h, :wd] = 0
    labels = labels + 10 * padded.roll((-shift, -shift), (0, 1))
    windows = _window_partition(labels[None, :, :, None], w)[0, :, :, 0]
    different = windows[:, :, None] != windows[:, None, :]
    return different.float() * -1e4


class _SwinBlock(nn.Module):
    """(Shifted-)window attention and MLP, both pre-norm and residual."""

    def __init__(
        self, dim: int, heads: int, *, side: int, window: int, shift: int, drop_path: float
    ) -> None:
        super().__init__()
        if side <= window:  # the window covers the whole map: shrink it, no shift
            window, shift = side, 0
        self.window, self.shift = window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = _Attention(dim, heads)
        self.bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        nn.init.trunc_normal_(self.bias_table, std=0.02)
        coords = torch.stack(
            torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")
        ).flatten(1)
        rel = coords[:, :, None] - coords[:, None, :] + window - 1
        self.register_buffer("bias_index", rel[0] * (2 * window - 1) + rel[1], persistent=False)
        mask = shifted_window_mask(side, side, window, shift)
        self.register_buffer("mask", mask, persistent=False)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = _Mlp(dim, 4 * dim)
        self.drop_path = _DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h, wd, _ = x.shape
        w, s = self.window, self.shift
        y = F.pad(self.norm1(x), (0, 0, 0, -wd % w, 0, -h % w))
        if s:
            y = y.roll((-s, -s), (1, 2))
        bias = self.bias_table[self.bias_index].permute(2, 0, 1)  # (heads, w², w²)
        if self.mask is not None:
            bias = bias + self.mask[:, None]  # (windows, heads, w², w²)
        windows = self.attn(_window_partition(y, w), bias)
        y = _window_merge(windows, w, y.shape[1], y.shape[2])
        if s:
            y = y.roll((s, s), (1, 2))
        x = x + self.drop_path(y[:, :h, :wd])
        return x + self.drop_path(self.mlp(self.norm2(x)))


class _PatchMerging(nn.Module):
    """Concatenate each 2×2 neighbourhood (4C), LayerNorm, linear to 2C; odd maps are padded."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim)
        self.reduce = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (0, 0, 0, x.shape[2] % 2, 0, x.shape[1] % 2))
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.reduce(self.norm(x))


class SwinTransformer(CutoutNet):
    """Swin Transformer; see :func:`swin_t`."""

    def __init__(
        self,
        *,
        num_outputs: int,
        in_channels: int,
        image_size: int,
        window_size: int = 7,
        dim: int = 96,
        depths: Sequence[int] = (2, 2, 6, 2),
        heads: Sequence[int] = (3, 6, 12, 24),
        drop_path: float = 0.2,
    ) -> None:
        super().__init__(num_outputs=num_outputs, in_channels=in_channels, image_size=image_size)
        if not isinstance(window_size, int) or window_size < 1:
            raise ValueError(f"window_size must be a positive integer, got {window_size!r}")
        self.patch_embed = nn.Conv2d(in_channels, dim, 4, stride=4)
        self.embed_norm = nn.LayerNorm(dim)
        rates = iter(_drop_rates(drop_path, sum(depths)))
        side = math.ceil(image_size / 4)
        stages: list[nn.Module] = []
        for i, (n, h) in enumerate(zip(depths, heads, strict=True)):
            blocks: list[nn.Module] = [
                _SwinBlock(
                    dim,
                    h,
                    side=side,
                    window=window_size,
                    shift=window_size // 2 if j % 2 else 0,
                    drop_path=next(rates),
                )
                for j in range(n)
            ]
            if i < len(depths) - 1:
                blocks.append(_PatchMerging(dim))
                dim, side = 2 * dim, math.ceil(side / 2)
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_outputs)
        _init_transformer(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(_pad_to_multiple(x, 4)).permute(0, 2, 3, 1)  # (B, H, W, C)
        x = self.stages(self.embed_norm(x))
        return self.norm(x).mean((1, 2))


@register_model("swin_t", input_keys=INPUT, shapes=SHAPES, paper=GAO2023)
def swin_t(
    *, num_outputs: int = 3, in_channels: int = 3, image_size: int = 50, window_size: int = 7
) -> SwinTransformer:
    """Swin-T (Liu et al. 2021), gao2023's "Swin Transformer_tiny_patch4" baseline.

    4×4 patch embedding (96) with LayerNorm; stages of 2, 2, 6 and 2 blocks
    with 3, 6, 12 and 24 heads, alternating regular and shifted (by half a
    window) window attention with relative position bias, MLP ratio 4, patch
    merging between stages; LayerNorm, global average pool, linear. Stochastic
    depth rises to 0.2. For 50×50 cutouts: image padded to 52×52 (13×13 tokens);
    maps not a multiple of the window are padded inside the attention with the
    padding masked out; a window larger than the map shrinks to it and is not
    shifted (so: 13 with windows of 7, then 7, 4 and 2 with one window each).

    Parameters
    ----------
    num_outputs, in_channels, image_size : int
        As for :func:`gao2023_resnet50_gqs`.
    window_size : int
        Attention window side in tokens (7, as published).

    Returns
    -------
    SwinTransformer

    Examples
    --------
    >>> with torch.device("meta"):  # shapes only, no weights drawn
    ...     net = swin_t()
    ...     logits = net({"image": torch.empty(2, 3, 50, 50)})
    >>> tuple(logits.shape), [stage[0].window for stage in net.stages]
    ((2, 3), [7, 7, 4, 2])
    """
    return SwinTransformer(
        num_outputs=num_outputs,
        in_channels=in_channels,
        image_size=image_size,
        window_size=window_size,
    )


# --------------------------------------------------------------- ConvNeXt-T
class _LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of a (B, C, H, W) map."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class _ConvNeXtBlock(nn.Module):
    """Depthwise 7×7 → LayerNorm → 1×1 (4C) → GELU → 1×1 (C) → layer scale, residual."""

    def __init__(self, dim: int, drop_path: float) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = _Mlp(dim, 4 * dim)
        self.gamma = nn.Parameter(torch.full((dim,), 1e-6))
        self.drop_path = _DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.mlp(self.norm(self.dwconv(x).permute(0, 2, 3, 1))) * self.gamma
        return x + self.drop_path(y.permute(0, 3, 1, 2))


class ConvNeXt(CutoutNet):
    """ConvNeXt; see :func:`convnext_t`."""

    min_size = 32  # 4×4/4 stem and three 2×2/2 down-samplings

    def __init__(
        self,
        *,
        num_outputs: int,
        in_channels: int,
        image_size: int,
        depths: Sequence[int] = (3, 3, 9, 3),
        dims: Sequence[int] = (96, 192, 384, 768),
        drop_path: float = 0.1,
    ) -> None:
        super().__init__(num_outputs=num_outputs, in_channels=in_channels, image_size=image_size)
        rates = iter(_drop_rates(drop_path, sum(depths)))
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, dims[0], 4, stride=4),
            _LayerNorm2d(dims[0], eps=1e-6),
        ]
        for i, (n, dim) in enumerate(zip(depths, dims, strict=True)):
            if i > 0:
                layers += [_LayerNorm2d(dims[i - 1], eps=1e-6), nn.Conv2d(dims[i - 1], dim, 2, 2)]
            layers += [_ConvNeXtBlock(dim, next(rates)) for _ in range(n)]
        self.features = nn.Sequential(*layers)
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head = nn.Linear(dims[-1], num_outputs)
        _init_transformer(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.features(x).mean((2, 3)))


@register_model("convnext_t", input_keys=INPUT, shapes=SHAPES, paper=GAO2023)
def convnext_t(*, num_outputs: int = 3, in_channels: int = 3, image_size: int = 50) -> ConvNeXt:
    """ConvNeXt-T (Liu et al. 2022), one of gao2023's nine baselines.

    4×4/4 patchify stem with LayerNorm; stages of 3, 3, 9 and 3 blocks of width
    96, 192, 384 and 768 (depthwise 7×7 → LayerNorm → inverted-bottleneck MLP
    with GELU → layer scale 1e-6), LayerNorm + 2×2/2 convolution between stages;
    global average pool, LayerNorm, linear. Stochastic depth rises to 0.1.
    A 50×50 cutout gives 12, 6, 3 and 1 pixel maps.

    Parameters
    ----------
    num_outputs, in_channels, image_size : int
        As for :func:`gao2023_resnet50_gqs`; ``image_size`` ≥ 32.

    Returns
    -------
    ConvNeXt

    Examples
    --------
    >>> with torch.device("meta"):  # shapes only, no weights drawn
    ...     net = convnext_t()
    ...     maps = net.features(torch.empty(1, 3, 50, 50))
    >>> tuple(maps.shape)
    (1, 768, 1, 1)
    """
    return ConvNeXt(num_outputs=num_outputs, in_channels=in_channels, image_size=image_size)


# ------------------------------------------------------------------ summary
def parameter_counts(
    names: Sequence[str] | None = None, *, num_outputs: int = 3, in_channels: int = 3
) -> dict[str, int]:
    """Number of parameters of image models at their defaults.

    Parameters
    ----------
    names : sequence of str, optional
        Registered names; all the models of this module by default. Building
        them all takes several seconds; under ``with torch.device("meta"):`` no
        weights are drawn and it takes about one.
    num_outputs, in_channels : int
        Passed to every model.

    Returns
    -------
    dict
        Model name → number of parameters.

    Examples
    --------
    >>> parameter_counts(["resnet18", "resnet18_eca"])
    {'resnet18': 11178051, 'resnet18_eca': 11178087}
    """
    if names is None:
        names = [n for n in list_models() if get_model_spec(n).factory.__module__ == __name__]
    counts = {}
    for name in names:
        model = create_model(name, num_outputs=num_outputs, in_channels=in_channels)
        counts[name] = sum(p.numel() for p in model.parameters())
    return counts
