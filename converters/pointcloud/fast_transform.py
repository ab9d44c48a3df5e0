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

MAX_FIT_ERROR_M = 0.0005
_BLOCK = 1 << 18

Exact = Callable[[np.ndarray], np.ndarray]


_PAIRS = [(i, d - i) for d in range(5) for i in range(d + 1)]
_Z_PAIRS = [(i, d - i) for d in range(3) for i in range(d + 1)]


def _terms(u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Design matrix: u^i v^j (i + j <= 4), then w u^i v^j (i + j <= 2); powers by multiplication."""
    up = [np.ones_like(u), u]
    vp = [np.ones_like(v), v]
    for _ in range(3):
        up.append(up[-1] * u)
        vp.append(vp[-1] * v)
    out = np.empty((len(_PAIRS) + len(_Z_PAIRS), len(u)), dtype=np.float64)  # rows contiguous
    for row, (i, j) in enumerate(_PAIRS):
        np.multiply(up[i], vp[j], out=out[row])
    for row, (i, j) in enumerate(_Z_PAIRS, start=len(_PAIRS)):
        np.multiply(out[_PAIRS.index((i, j))], w, out=out[row])
    return out.T


class FastToEnu:
    """Callable (N, 3) map coordinates → (N, 3) float64 ENU, exact within :data:`MAX_FIT_ERROR_M`."""

    def __init__(self, exact: Exact, lo: np.ndarray, hi: np.ndarray) -> None:
        self.exact = exact
        lo = np.asarray(lo, dtype=np.float64)
        hi = np.asarray(hi, dtype=np.float64)
        self.centre = (lo + hi) / 2
        self.half = np.maximum((hi - lo) / 2, 1e-6)
        self.coefficients: np.ndarray | None = None
        self.fit_error_m: float | None = None
        try:
            self._fit(lo, hi)
        except (ValueError, np.linalg.LinAlgError):
            self.coefficients = None

    def _grid(self, lo: np.ndarray, hi: np.ndarray, n: int, nz: int, shift: float) -> np.ndarray:
        t = (np.arange(n) + shift) / (n - 1)
        tz = (np.arange(nz) + shift) / max(nz - 1, 1)
        gx, gy, gz = np.meshgrid(lo[0] + t * (hi[0] - lo[0]), lo[1] + t * (hi[1] - lo[1]),
                                 lo[2] + tz * (hi[2] - lo[2]), indexing="ij")
        return np.stack([gx.ravel(), gy.ravel(), gz.ravel()], axis=-1)

    def _fit(self, lo: np.ndarray, hi: np.ndarray) -> None:
        fit_points = self._grid(lo, hi, 11, 3, 0.0)
        check_points = self._grid(lo, hi, 8, 2, 0.37)[: 8 * 8 * 2]
        coefficients, *_ = np.linalg.lstsq(self._design(fit_points), self.exact(fit_points), rcond=None)
        error = np.abs(self._design(check_points) @ coefficients - self.exact(check_points)).max()
        self.fit_error_m = float(error)
        if np.isfinite(error) and error <= MAX_FIT_ERROR_M:
            self.coefficients = coefficients

    def _design(self, xyz: np.ndarray) -> np.ndarray:
        n = np.ascontiguousarray(((xyz - self.centre) / self.half).T)
        return _terms(n[0], n[1], n[2])

    @property
    def uses_fit(self) -> bool:
        return self.coefficients is not None

    def __call__(self, xyz: np.ndarray) -> np.ndarray:
        xyz = np.asarray(xyz, dtype=np.float64)
        if self.coefficients is None:
            return self.exact(xyz)
        out = np.empty_like(xyz)
        for start in range(0, len(xyz), _BLOCK):
            block = xyz[start : start + _BLOCK]
            design_t = self._design(block).T  # (terms, n), contiguous
            out[start : start + _BLOCK] = (self.coefficients.T @ design_t).T
        return out
