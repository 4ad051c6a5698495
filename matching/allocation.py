"""Capacity-optimal assignment of students to places over ranked pairs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from matching.errors import InvalidArgument, InvalidMatch
from matching.postings import Posting, check_unique
from matching.results import Assignment, Match


def allocate(
    needs: Sequence[Posting],
    offers: Sequence[Posting],
    matches: Mapping[str, Sequence[Match]],
    *,
    max_per_offer: int | None = None,
) -> list[Assignment]:
    """Place as many students as possible, then maximise sum(students * score).

    Only pairs present in `matches` (as returned by `rank`: need id -> matches)
    can be used. Each need places at most `need.count` students and each offer
    takes at most `offer.count`; with `max_per_offer`, one need sends at most that
    many students to one offer (to spread a class out).

    Exact: two linear programs over the pair graph solved by HiGHS (dual
    simplex), first the most students, then the best total score among
    allocations placing that many. Both are network-flow problems, so their
    vertex solutions are integral; this is checked, with an integer program as
    a fallback. The result is sorted by (need id, offer id) and
    does not depend on the order of the inputs.

    Raises `InvalidMatch` for a match naming an unknown need or offer or filed
    under another need's id, and `InvalidArgument` for `max_per_offer` < 1.
    """
    if max_per_offer is not None and (
        isinstance(max_per_offer, bool)
        or not isinstance(max_per_offer, int)
        or max_per_offer < 1
    ):
        raise InvalidArgument(
            f"max_per_offer must be an int >= 1, got {max_per_offer!r}"
        )
    check_unique(needs, "need")
    check_unique(offers, "offer")
    # Rows in id order: the solver's pick among equal optima then does not
    # depend on the order the caller passed things in.
    needs = sorted(needs, key=lambda p: p.id)
    offers = sorted(offers, key=lambda p: p.id)
    need_index = {p.id: i for i, p in enumerate(needs)}
    offer_index = {p.id: j for j, p in enumerate(offers)}

    best: dict[tuple[str, str], float] = {}
    for need_id, ranked in matches.items():
        if need_id not in need_index:
            raise InvalidMatch(f"matches name unknown need {need_id!r}")
        for m in ranked:
            if m.need_id != need_id:
                raise InvalidMatch(
                    f"match for need {m.need_id!r} filed under {need_id!r}"
                )
            if m.offer_id not in offer_index:
                raise InvalidMatch(f"match names unknown offer {m.offer_id!r}")
            if not (0.0 <= m.score <= 1.0):
                raise InvalidMatch(f"match score {m.score!r} outside [0, 1]")
            key = (need_id, m.offer_id)
            best[key] = max(best.get(key, 0.0), float(m.score))
    if not best:
        return []

    # Canonical order makes the solver's choice among equal optima independent of
    # the order the caller passed things in.
    pairs = sorted(best)
    n_pairs = len(pairs)
    rows = np.fromiter((need_index[a] for a, _ in pairs), np.int64, n_pairs)
    cols = np.fromiter((offer_index[b] for _, b in pairs), np.int64, n_pairs)
    score = np.fromiter((best[p] for p in pairs), np.float64, n_pairs)
    need_cap = np.array([p.count for p in needs], dtype=np.float64)
    offer_cap = np.array([p.count for p in offers], dtype=np.float64)
    upper = np.minimum(need_cap[rows], offer_cap[cols])
    if max_per_offer is not None:
        upper = np.minimum(upper, float(max_per_offer))

    edge = np.arange(n_pairs)
    a_need = sp.csr_array((np.ones(n_pairs), (rows, edge)), shape=(len(needs), n_pairs))
    a_offer = sp.csr_array(
        (np.ones(n_pairs), (cols, edge)), shape=(len(offers), n_pairs)
    )
    a_caps = sp.vstack([a_need, a_offer]).tocsr()
    caps = np.concatenate([need_cap, offer_cap])
    placed = _solve(-np.ones(n_pairs), a_caps, caps, upper)
    most = float(placed.sum())
    # Phase two keeps at least `most` students (as -sum(x) <= -most) and
    # maximises the score among those allocations.
    a_two = sp.vstack([a_caps, sp.csr_array(-np.ones((1, n_pairs)))]).tocsr()
    students = _solve(-score, a_two, np.append(caps, -most + 0.5), upper)
    if int(students.sum()) != int(most):  # pragma: no cover - solver contract
        raise RuntimeError("allocation lost students between the two solves")
    return [
        Assignment(need_id=pairs[e][0], offer_id=pairs[e][1], students=int(students[e]))
        for e in np.flatnonzero(students > 0)
    ]


def _solve(
    cost: npt.NDArray[np.float64],
    a_ub: sp.csr_array,
    b_ub: npt.NDArray[np.float64],
    upper: npt.NDArray[np.float64],
) -> npt.NDArray[np.int64]:
    """Minimise cost @ x s.t. a_ub @ x <= b_ub, 0 <= x <= upper, x integral.

    The dual simplex returns a vertex, and the vertices of these network-flow
    polytopes are integral; the integer program is only a safety net.
    """
    bounds = np.column_stack([np.zeros_like(upper), upper])
    lp = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs-ds")
    if lp.success and lp.x is not None:
        x = np.asarray(lp.x, dtype=np.float64)
        if np.max(np.abs(np.rint(x) - x), initial=0.0) <= 1e-6:
            return _solution(x, True, "", upper)
    ip = milp(  # pragma: no cover - reached only if the LP is not integral
        cost,
        constraints=[LinearConstraint(a_ub, -np.inf, b_ub)],
        bounds=Bounds(np.zeros_like(upper), upper),
        integrality=np.ones_like(upper),
    )
    return _solution(ip.x, ip.success, ip.message, upper)  # pragma: no cover


def _solution(
    x: npt.NDArray[np.float64] | None,
    success: bool,
    message: str,
    upper: npt.NDArray[np.float64],
) -> npt.NDArray[np.int64]:
    if not success or x is None:  # pragma: no cover - a feasible LP always solves
        raise RuntimeError(f"allocation solver failed: {message}")
    rounded = np.rint(x)
    # The constraint matrix is totally unimodular, so anything far from an
    # integer means the solver broke its contract; do not paper over it.
    if np.max(np.abs(rounded - x), initial=0.0) > 1e-6:  # pragma: no cover
        raise RuntimeError("allocation solver returned a fractional solution")
    clipped: npt.NDArray[np.int64] = np.clip(rounded, 0.0, upper).astype(np.int64)
    return clipped
