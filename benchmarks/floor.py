"""The floor a status run is measured against: `pandas.read_csv` and a vectorised pooled z-test over every
comparison (each variant against its test's first row, per metric), nothing else.

Run: python -m benchmarks.floor SHEET.csv (prints the comparisons it tested)
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from scipy import special


def z_test_everything(path: str) -> int:
    frame = pd.read_csv(path)
    metrics = [c for c in frame.columns if c.endswith(("(micro)", "(macro)"))]
    keys = ["Campaign", "Test"]
    first = frame.groupby(keys, sort=False).cumcount() == 0
    control = frame[first].drop(columns="Variant")
    variants = frame[~first].merge(control, on=keys, suffixes=("", " of control"))
    nc, nv = variants["Visitors of control"].to_numpy(float), variants["Visitors"].to_numpy(float)
    for metric in metrics:
        xc, xv = variants[f"{metric} of control"].to_numpy(float), variants[metric].to_numpy(float)
        pooled = (xc + xv) / (nc + nv)
        z = (xv / nv - xc / nc) / np.sqrt(pooled * (1 - pooled) * (1 / nc + 1 / nv))
        special.ndtr(-np.abs(z))
    return len(variants) * len(metrics)


if __name__ == "__main__":
    print(z_test_everything(sys.argv[1]))
