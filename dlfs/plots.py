"""Static figures used across the notebooks (matplotlib, no pyplot state)."""

import io
import math

import matplotlib.figure
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg


class Figure(matplotlib.figure.Figure):
    """A matplotlib Figure that shows itself as a PNG when it is a cell's value.

    Figures made without pyplot have no display hook until the inline backend has been
    loaded; this one always does, and pyplot never draws it a second time.
    """

    def _repr_png_(self):
        return png_bytes(self)


def png_bytes(fig, dpi=80):
    """The figure rendered as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def new_figure(**kwargs):
    """A :class:`Figure` with an Agg canvas, e.g. ``new_figure(figsize=(5, 3), layout="constrained")``."""
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def _as_images(images):
    """(N, 784) / (N, 28, 28) / (N, 1, H, W) / (N, 3, H, W) / (N, H, W, 3) -> list of (H, W) or (H, W, 3)."""
    images = np.asarray(images)
    if images.ndim == 2:
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise ValueError(f"flat images need a square number of pixels, got {images.shape[1]}")
        return list(images.reshape(-1, side, side))
    if images.ndim == 3:
        return list(images)
    if images.ndim == 4 and images.shape[1] == 1:
        return list(images[:, 0])
    if images.ndim == 4 and images.shape[1] == 3:
        return list(images.transpose(0, 2, 3, 1))
    if images.ndim == 4 and images.shape[-1] == 3:
        return list(images)
    raise ValueError(f"cannot show images of shape {images.shape}")


def image_grid(images, titles=None, ncols=10, cmap="gray", symmetric=False, size=1.2, suptitle=None):
    """A grid of images with optional titles.

    Args:
        images: N images, flat (N, H*W) with square H = W, (N, H, W), (N, 1, H, W), (N, 3, H, W)
            or (N, H, W, 3).
        titles: N strings (or None).
        symmetric: centre the colour scale on 0 (for weights and filters, shown with cmap="RdBu_r").
        size: inches per image.

    Returns:
        A matplotlib Figure.
    """
    pictures = _as_images(images)
    n = len(pictures)
    ncols = max(1, min(ncols, n))
    nrows = max(1, math.ceil(n / ncols))
    fig = new_figure(figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0)), layout="constrained")
    for i in range(nrows * ncols):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        ax.set_axis_off()
        if i >= n:
            continue
        picture = pictures[i]
        if picture.ndim == 3:
            low, high = picture.min(), picture.max()
            ax.imshow((picture - low) / (high - low + 1e-12))
        elif symmetric:
            limit = np.abs(picture).max() + 1e-12
            ax.imshow(picture, cmap=cmap, vmin=-limit, vmax=limit)
        else:
            ax.imshow(picture, cmap=cmap)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    return fig
