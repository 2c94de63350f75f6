"""Image augmentation for cutouts: random rotation, flips and rescaling.

gao2023 (Sect. 3.5) resized every SDSS cutout to 50×50, then rotated it by a
random angle in (−90°, 90°) and flipped it horizontally and vertically, each
with probability 0.5 — on the training set only. :class:`ImageAugment` does the
same, with every random draw taken from an explicit generator.

Images are numpy arrays or torch tensors whose last two axes are (H, W), e.g.
(C, H, W); every function returns a new array of the input's type, dtype and
(for tensors) device, and never writes into its input. Tensors are processed
through numpy on the CPU so both give identical results.

Interpolation is :mod:`scipy.ndimage`: rotation and rescaling are spline
interpolations of order ``order`` (1 = bilinear, the default; 0 = nearest, which
keeps pixel values). Rotation fills what comes from outside the image with
``cval`` (0 — the sky level of a background-subtracted cutout), blending it into
edge pixels (``mode="grid-constant"``); zooming maps pixel edges onto pixel
edges (``grid_mode=True``) and pads with ``cval``. Integer images come back as
float64 after an interpolation. Rotations by a multiple of 90° and flips are
exact pixel permutations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

__all__ = [
    "ImageAugment",
    "augment_batch",
    "random_flip",
    "random_resize",
    "random_rotation",
    "resize",
    "rotate",
]

RngLike = np.random.Generator | int | np.random.SeedSequence


def _rng(rng: RngLike) -> np.random.Generator:
    if rng is None:
        raise TypeError("pass rng (a numpy Generator or an int seed); randomness is an argument")
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _to_numpy(img: Any) -> tuple[np.ndarray, Any]:
    """The image as a numpy array, and what is needed to give back its original type."""
    like = img if type(img).__module__.split(".")[0] == "torch" else None
    arr = img.detach().cpu().numpy() if like is not None else np.asarray(img)
    if arr.ndim < 2:
        raise ValueError(f"an image needs at least 2 axes (…, H, W), got shape {arr.shape}")
    return arr, like


def _back(arr: np.ndarray, like: Any, dtype: Any) -> Any:
    out = np.array(arr, dtype=dtype, order="C", copy=True)  # never a view of the input
    if like is None:
        return out
    import torch

    return torch.from_numpy(out).to(device=like.device, dtype=like.dtype)


def _float_dtype(arr: np.ndarray) -> Any:
    return arr.dtype if arr.dtype.kind == "f" else np.float64


# -------------------------------------------------------------- primitives
def _rotate(arr: np.ndarray, angle: float, order: int, cval: float) -> np.ndarray:
    quarter = angle / 90.0
    if quarter == round(quarter):
        # exact: counter-clockwise on the displayed image, like ndimage.rotate
        return np.rot90(arr, k=round(quarter) % 4, axes=(-2, -1))
    return ndimage.rotate(
        arr.astype(_float_dtype(arr), copy=False),
        angle,
        axes=(-1, -2),
        reshape=False,
        order=order,
        mode="grid-constant",  # pixels partly outside blend with cval ("constant" zeroes them)
        cval=cval,
    )


def _flip(arr: np.ndarray, horizontal: bool, vertical: bool) -> np.ndarray:
    if horizontal:
        arr = arr[..., :, ::-1]
    if vertical:
        arr = arr[..., ::-1, :]
    return arr


def _zoom(arr: np.ndarray, factors: tuple[float, float], order: int) -> np.ndarray:
    zoom = (1.0,) * (arr.ndim - 2) + factors
    # grid_mode: pixel edges, not centres, map onto each other (torch's align_corners=False)
    return ndimage.zoom(
        arr.astype(_float_dtype(arr), copy=False), zoom, order=order, mode="nearest", grid_mode=True
    )


def _crop_or_pad(arr: np.ndarray, size: tuple[int, int], cval: float) -> np.ndarray:
    """Centre ``arr`` in an (…, *size) frame: crop what is too big, pad with ``cval``."""
    out = np.full((*arr.shape[:-2], *size), cval, dtype=arr.dtype)
    src, dst = [], []
    for n_in, n_out in zip(arr.shape[-2:], size, strict=True):
        if n_in >= n_out:
            start = (n_in - n_out) // 2
            src.append(slice(start, start + n_out))
            dst.append(slice(0, n_out))
        else:
            start = (n_out - n_in) // 2
            src.append(slice(0, n_in))
            dst.append(slice(start, start + n_in))
    out[(..., *dst)] = arr[(..., *src)]
    return out


def _size(size: int | tuple[int, int]) -> tuple[int, int]:
    pair = (size, size) if np.isscalar(size) else tuple(size)
    if len(pair) != 2 or min(pair) < 1:
        raise ValueError(f"size must be a positive int or (H, W), got {size!r}")
    return int(pair[0]), int(pair[1])


# ---------------------------------------------------------- public functions
def random_rotation(
    img: Any, max_deg: float = 90.0, *, rng: RngLike, order: int = 1, cval: float = 0.0
) -> Any:
    """Rotate by an angle drawn uniformly in [−max_deg, max_deg] degrees, keeping the shape.

    :func:`rotate` by the drawn angle: about the image centre, corners that come
    from outside filled with ``cval``.

    Parameters
    ----------
    img, order, cval
        As in :func:`rotate`.
    max_deg : float
        Largest rotation (90 in gao2023); 0 returns an unchanged copy.
    rng : numpy.random.Generator or int
        Source of the angle.

    Returns
    -------
    ndarray or torch.Tensor
        Same type and shape as ``img``.

    Examples
    --------
    >>> img = np.arange(2 * 5 * 5, dtype=float).reshape(2, 5, 5)
    >>> random_rotation(img, 30, rng=0).shape
    (2, 5, 5)
    >>> bool(np.array_equal(random_rotation(img, 0, rng=0), img))
    True
    """
    angle = float(_rng(rng).uniform(-max_deg, max_deg)) if max_deg else 0.0
    return rotate(img, angle, order=order, cval=cval)


def rotate(img: Any, angle: float, *, order: int = 1, cval: float = 0.0) -> Any:
    """Rotate counter-clockwise by ``angle`` degrees about the centre, keeping the shape.

    A multiple of 90 degrees is an exact permutation of the pixels (no
    interpolation); other angles interpolate, and corners that come from outside
    are filled with ``cval``. :func:`random_rotation` draws the angle.

    Parameters
    ----------
    img : ndarray or torch.Tensor
        Image with spatial axes last, e.g. (C, H, W).
    angle : float
        Degrees, counter-clockwise on the displayed image (as ``scipy.ndimage.rotate``).
    order : int
        Spline order of the interpolation (``scipy.ndimage.rotate``).
    cval : float
        Value of pixels rotated in from outside the image.

    Returns
    -------
    ndarray or torch.Tensor
        Same type and shape as ``img``.

    Examples
    --------
    >>> img = np.arange(4.0).reshape(1, 2, 2)
    >>> rotate(img, 90)[0].tolist()
    [[1.0, 3.0], [0.0, 2.0]]
    >>> bool(np.array_equal(rotate(img, -270), rotate(img, 90)))
    True
    """
    arr, like = _to_numpy(img)
    out = _rotate(arr, float(angle), order, cval)
    return _back(out, like, out.dtype)


def random_flip(img: Any, *, p: float = 0.5, rng: RngLike) -> Any:
    """Flip left–right and up–down, each independently with probability ``p``.

    Examples
    --------
    >>> img = np.arange(9.0).reshape(1, 3, 3)
    >>> twice = random_flip(random_flip(img, rng=3), rng=3)
    >>> bool(np.array_equal(twice, img))
    True
    """
    arr, like = _to_numpy(img)
    horizontal, vertical = _rng(rng).random(2) < p
    return _back(_flip(arr, bool(horizontal), bool(vertical)), like, arr.dtype)


def resize(img: Any, size: int | tuple[int, int], *, order: int = 1) -> Any:
    """Resample to ``size`` = (H, W) pixels (gao2023's "resize" of every cutout to 50×50).

    Examples
    --------
    >>> resize(np.ones((3, 48, 52)), 50).shape
    (3, 50, 50)
    """
    arr, like = _to_numpy(img)
    h, w = _size(size)
    out = _zoom(arr, (h / arr.shape[-2], w / arr.shape[-1]), order)
    if out.shape[-2:] != (h, w):  # zoom rounds the output size; trim or pad the odd pixel
        out = _crop_or_pad(out, (h, w), 0.0)
    return _back(out, like, out.dtype)


def random_resize(
    img: Any,
    scale: tuple[float, float] | float = (0.9, 1.1),
    out_size: int | tuple[int, int] | None = None,
    *,
    rng: RngLike,
    order: int = 1,
    cval: float = 0.0,
) -> Any:
    """Rescale by a factor drawn uniformly in ``scale``, then centre-crop or pad to ``out_size``.

    Zooming in (factor > 1) crops the centre; zooming out pads the border with
    ``cval``. The object stays centred, its apparent size changes.

    Parameters
    ----------
    img : ndarray or torch.Tensor
        Image with spatial axes last.
    scale : (float, float) or float
        Range of the zoom factor, or one fixed factor.
    out_size : int or (int, int), optional
        Output (H, W); defaults to the input's.
    rng : numpy.random.Generator or int
        Source of the factor.
    order : int
        Spline order of scipy.ndimage.zoom.
    cval : float
        Value of padded pixels.

    Examples
    --------
    >>> img = np.zeros((1, 20, 20))
    >>> random_resize(img, (0.8, 1.2), rng=0).shape, random_resize(img, 1.5, 30, rng=0).shape
    ((1, 20, 20), (1, 30, 30))
    """
    arr, like = _to_numpy(img)
    lo, hi = (scale, scale) if np.isscalar(scale) else scale
    if not 0 < lo <= hi:
        raise ValueError(f"scale must satisfy 0 < low <= high, got {scale!r}")
    factor = float(_rng(rng).uniform(lo, hi)) if hi > lo else float(lo)
    size = arr.shape[-2:] if out_size is None else _size(out_size)
    out = arr if factor == 1.0 else _zoom(arr, (factor, factor), order)
    out = _crop_or_pad(out.astype(_float_dtype(out), copy=False), size, cval)
    return _back(out, like, out.dtype)


@dataclass(frozen=True)
class ImageAugment:
    """Training-set augmentation of cutouts, gao2023 by default: rotation ±90° and flips.

    Steps run in this order: ``size`` (deterministic resample), ``resize``
    (random rescale, then crop/pad back to the same size), ``rotation``,
    ``flip``. Each call draws from the ``rng`` it is given, so a data loader
    reproduces an epoch with e.g. ``rng=np.random.default_rng((seed, epoch, index))``.

    Parameters
    ----------
    rotation : float
        Largest rotation in degrees (0: none).
    flip : bool
        Random left–right and up–down flips with probability 0.5 each.
    resize : (float, float), optional
        Range of a random zoom factor (None: none).
    size : int or (int, int), optional
        Resample every image to this size first (gao2023: 50).
    order : int
        Spline order of the interpolations.
    cval : float
        Fill value of pixels from outside the image.

    Examples
    --------
    >>> aug = ImageAugment(rotation=90, flip=True)
    >>> img = np.random.default_rng(0).normal(size=(3, 50, 50))
    >>> out = aug(img, rng=1)
    >>> out.shape, bool(np.array_equal(out, aug(img, rng=1)))
    ((3, 50, 50), True)
    >>> aug.many(np.stack([img, img]), rng=1).shape
    (2, 3, 50, 50)
    """

    rotation: float = 90.0
    flip: bool = True
    resize: tuple[float, float] | None = None
    size: int | tuple[int, int] | None = None
    order: int = 1
    cval: float = 0.0

    def __call__(self, img: Any, *, rng: RngLike) -> Any:
        """Augment one image (spatial axes last)."""
        gen = _rng(rng)
        out = img
        if self.size is not None:
            out = resize(out, self.size, order=self.order)
        if self.resize is not None:
            out = random_resize(out, self.resize, rng=gen, order=self.order, cval=self.cval)
        if self.rotation:
            out = random_rotation(out, self.rotation, rng=gen, order=self.order, cval=self.cval)
        if self.flip:
            out = random_flip(out, rng=gen)
        if out is img:  # nothing to do: still never hand back the caller's own array
            out = img.clone() if hasattr(img, "clone") else np.array(img, copy=True)
        return out

    def many(self, imgs: Any, *, rng: RngLike) -> Any:
        """Augment a batch (N, …, H, W): image by image, drawing in order from ``rng``.

        Equals calling the instance on each image with the same generator in turn.
        """
        gen = _rng(rng)
        outs = [self(imgs[i], rng=gen) for i in range(len(imgs))]
        if type(imgs).__module__.split(".")[0] == "torch":
            import torch

            return torch.stack(outs)
        return np.stack(outs)


def augment_batch(
    inputs: dict[str, Any],
    generator: Any,
    *,
    key: str = "image",
    max_angle: float = 90.0,
    p_flip: float = 0.5,
) -> dict[str, Any]:
    """gao2023's training augmentation on a whole torch batch at once.

    Each image of ``inputs[key]`` (B, C, H, W) is rotated by an angle drawn
    uniformly in (−``max_angle``, ``max_angle``) degrees about its centre
    (bilinear, zeros from outside — the sky of a background-subtracted cutout)
    and flipped horizontally and vertically, each with probability ``p_flip``:
    the distribution of :class:`ImageAugment`, drawn from a ``torch.Generator``
    so a :class:`~skyclass.training.Trainer` can apply it to every training batch.

    Examples
    --------
    >>> import torch
    >>> x = torch.zeros(4, 3, 9, 9); x[:, :, 4, 6] = 1.0
    >>> out = augment_batch({"image": x}, torch.Generator().manual_seed(0))["image"]
    >>> out.shape, bool(torch.allclose(out.sum((1, 2, 3)), x.sum((1, 2, 3)), atol=0.5))
    (torch.Size([4, 3, 9, 9]), True)
    """
    import math

    import torch
    import torch.nn.functional as F

    images = inputs[key]
    n = images.shape[0]
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(max_angle)
    flip_x = torch.where(torch.rand(n, generator=generator) < p_flip, -1.0, 1.0)
    flip_y = torch.where(torch.rand(n, generator=generator) < p_flip, -1.0, 1.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = cos * flip_x, -sin * flip_y
    theta[:, 1, 0], theta[:, 1, 1] = sin * flip_x, cos * flip_y
    grid = F.affine_grid(theta.to(images.dtype), list(images.shape), align_corners=False)
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return {**inputs, key: out}
