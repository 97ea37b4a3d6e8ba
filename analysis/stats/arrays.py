"""The array types every statistics module shares."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def as_float(values: npt.ArrayLike) -> FloatArray:
    return np.atleast_1d(np.asarray(values, dtype=np.float64))
