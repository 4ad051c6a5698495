"""Great-circle distances, vectorised."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), km."""

FloatArray = npt.NDArray[np.float64]


def haversine_km(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance in km between points given in degrees.

    Inputs broadcast like numpy arrays, e.g. lat1 of shape (n, 1) against lat2 of
    shape (1, m) gives an (n, m) matrix. NaN in, NaN out (missing coordinates).
    """
    p1 = np.radians(np.asarray(lat1))
    p2 = np.radians(np.asarray(lat2))
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2)) - np.radians(np.asarray(lon1))
    h = np.sin(dp / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    # Rounding can push h a hair above 1 for antipodal points; arcsin would give NaN.
    return np.asarray(
        2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))),
        dtype=np.float64,
    )
