"""Small vectorised drawing helpers shared by the generator's modules."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]


def choice(rng: np.random.Generator, weights: npt.ArrayLike, size: int) -> Ints:
    """``size`` indexes into ``weights``, each drawn with probability proportional to its weight."""
    w = np.asarray(weights, dtype=np.float64)
    return np.searchsorted(np.cumsum(w / w.sum()), rng.random(size), side="right").clip(0, len(w) - 1)


def index_of(values: npt.NDArray[np.str_], labels: tuple[str, ...]) -> Ints:
    """Position of each value in ``labels`` (every value must be one of them)."""
    uniq, inverse = np.unique(values, return_inverse=True)
    return np.array([labels.index(str(u)) for u in uniq], dtype=np.int64)[inverse]


def pick(rng: np.random.Generator, start: Ints, count: Ints) -> Ints:
    """A uniform index in ``start .. start + count - 1`` per row."""
    return start + np.floor(rng.random(len(start)) * count).astype(np.int64)

