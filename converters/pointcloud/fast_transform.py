"""Map coordinates → local ENU metres, fast: a polynomial fitted to the exact (pyproj) transform.

Over a survey-sized area the map → ENU mapping is smooth: ``enu(x, y, z) = A(x, y) + z · B(x, y)``
(ECEF is linear in ellipsoidal height for a fixed position; unit and geoid corrections are too). We fit
A with a bivariate polynomial of degree 4 and B of degree 2 on a grid over the data's bounding box,
check the fit on a second, offset grid, and use it only when its worst error there is below
:data:`MAX_FIT_ERROR_M`; otherwise every point goes through the exact transform. The polynomial is
~10× faster than per-point pyproj, which otherwise dominates point-cloud conversion time.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

MAX_FIT_ERROR_M = 0.0005
_BLOCK = 1 << 18

FloatArray = NDArray[np.float64]
Exact = Callable[[FloatArray], FloatArray]


def _pairs(degree: int) -> list[tuple[int, int]]:
    return [(i, d - i) for d in range(degree + 1) for i in range(d + 1)]


def _terms(u: FloatArray, v: FloatArray, w: FloatArray, degree: int) -> FloatArray:
    """Design matrix (terms, n): u^i v^j (i + j <= degree), then w u^i v^j (i + j <= degree - 2)."""
    pairs, z_pairs = _pairs(degree), _pairs(max(degree - 2, 0))
    up = [np.ones_like(u), u]
    vp = [np.ones_like(v), v]
    for _ in range(degree - 1):
        up.append(up[-1] * u)
        vp.append(vp[-1] * v)
    out = np.empty((len(pairs) + len(z_pairs), len(u)), dtype=np.float64)  # rows contiguous
    for row, (i, j) in enumerate(pairs):
        np.multiply(up[i], vp[j], out=out[row])
    for row, (i, j) in enumerate(z_pairs, start=len(pairs)):
        np.multiply(out[pairs.index((i, j))], w, out=out[row])
    return out


class FastToEnu:
    """Callable (N, 3) map coordinates → (N, 3) float64 ENU, exact within :data:`MAX_FIT_ERROR_M`.

    The lowest polynomial degree (2, 3 or 4) that passes the check is used: small survey areas need
    only degree 2 (earth curvature is quadratic), which is cheapest to evaluate.
    """

    def __init__(self, exact: Exact, lo: ArrayLike, hi: ArrayLike) -> None:
        self.exact = exact
        low = np.asarray(lo, dtype=np.float64)
        high = np.asarray(hi, dtype=np.float64)
        self.centre = (low + high) / 2
        self.half = np.maximum((high - low) / 2, 1e-6)
        self.coefficients: NDArray[np.floating] | None = None
        self.degree = 0
        self.fit_error_m: float | None = None
        try:
            self._fit(low, high)
        except (ValueError, np.linalg.LinAlgError):
            self.coefficients = None

    def _grid(self, lo: FloatArray, hi: FloatArray, n: int, nz: int, shift: float) -> FloatArray:
        t = (np.arange(n) + shift) / (n - 1)
        tz = (np.arange(nz) + shift) / max(nz - 1, 1)
        gx, gy, gz = np.meshgrid(lo[0] + t * (hi[0] - lo[0]), lo[1] + t * (hi[1] - lo[1]),
                                 lo[2] + tz * (hi[2] - lo[2]), indexing="ij")
        return np.stack([gx.ravel(), gy.ravel(), gz.ravel()], axis=-1)

    def _fit(self, lo: FloatArray, hi: FloatArray) -> None:
        fit_points = self._grid(lo, hi, 11, 3, 0.0)
        check_points = self._grid(lo, hi, 8, 2, 0.37)
        fit_values, check_values = self.exact(fit_points), self.exact(check_points)
        for degree in (2, 3, 4):
            design = self._design(fit_points, degree).T
            coefficients, *_ = np.linalg.lstsq(design, fit_values, rcond=None)
            error = float(np.abs(self._design(check_points, degree).T @ coefficients - check_values).max())
            self.fit_error_m = error
            if np.isfinite(error) and error <= MAX_FIT_ERROR_M:
                self.coefficients, self.degree = coefficients, degree
                return

    def _design(self, xyz: FloatArray, degree: int) -> FloatArray:
        n = np.ascontiguousarray(((xyz - self.centre) / self.half).T)
        return _terms(n[0], n[1], n[2], degree)

    @property
    def uses_fit(self) -> bool:
        return self.coefficients is not None

    def __call__(self, xyz: ArrayLike) -> FloatArray:
        points = np.asarray(xyz, dtype=np.float64)
        if self.coefficients is None:
            return self.exact(points)
        out = np.empty_like(points)
        for start in range(0, len(points), _BLOCK):
            block = points[start : start + _BLOCK]
            out[start : start + _BLOCK] = (self.coefficients.T @ self._design(block, self.degree)).T
        return out
