"""Region scale: rank every need of a region against its placements, split into
independent pieces by kind, period and distance.

A base region of 2,000 needs and 20,000 placements (skills from the
skills.json vocabulary, as in bench/speed.py) on a square of 120 x 120 km; a
scale of f has f times the postings on f times the area (a larger region, not
a denser one). Every need has a position and a radius (10, 20 or 30 km);
70 % of the postings have a period in 2025.

`split` cuts the run into `Piece`s: the needs of one kind and one square cell
of `CELL_KM` (40 km), with every placement of that kind that could pass the hard
rules for one of them (inside the cell grown by the largest radius plus a
margin, and overlapping the needs' span of dates). So no pair that the rules
allow is lost. (Splitting by quarter as well copied most placements into
every quarter, since periods and open dates span quarters: 12 copies of each
placement at 0.1x, so the split is by kind and place only.) `rank_piece`
ranks one piece with a fitted model against the region's index
(`Ranker.index` once, `OfferIndex.subset` per piece, so no placement is
vectorised twice): a
plain function of (model, piece, k) that a job queue could
run anywhere. The neighbourhood steps read the postings of a piece, so a
pair can score a little differently than in one call over everything.

The model is fitted once on at most 22,000 of the postings (fit timed apart);
each scale runs in its own process, reporting wall time of the split and the
ranking, the largest piece and peak RSS (ru_maxrss).
Run: python bench/region.py [--scales 1,2,5,10]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _jobtech as jt

from matching import Match, OfferIndex, Posting, Ranker, fit

BASE_NEEDS, BASE_OFFERS, BASE_SIDE_KM = 2000, 20000, 120.0
CELL_KM = 40.0
RADII = (10.0, 20.0, 30.0)
CENTRE = (61.004, 14.537)  # Mora
KM_PER_DEG_LAT = 111.2


def make(
    n: int, prefix: str, side_km: float, seed: int, vocab: list[str]
) -> list[Posting]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-side_km / 2, side_km / 2, n)
    y = rng.uniform(-side_km / 2, side_km / 2, n)
    lat = CENTRE[0] + y / KM_PER_DEG_LAT
    lon = CENTRE[1] + x / (KM_PER_DEG_LAT * np.cos(np.radians(lat)))
    out = []
    for i in range(n):
        skills = tuple(
            dict.fromkeys(vocab[j] for j in rng.choice(len(vocab), rng.integers(2, 7)))
        )
        dated = rng.random() < 0.7
        start = date(2025, 1, 1) + timedelta(days=int(rng.integers(0, 330)))
        out.append(
            Posting(
                id=f"{prefix}{i:07d}",
                kind="apl" if rng.random() < 0.8 else "prao",
                title="",
                skills=skills,
                count=int(rng.integers(1, 5)),
                start=start if dated else None,
                end=start + timedelta(days=int(rng.integers(7, 70))) if dated else None,
                lat=float(lat[i]),
                lon=float(lon[i]),
                max_km=float(rng.choice(RADII)) if prefix == "n" else None,
            )
        )
    return out


@dataclass(frozen=True)
class Piece:
    """Needs and the placements that could match any of them (positions in
    the region's placements, so in its index)."""

    needs: list[Posting]
    offers: list[int]


def _plane(ps: list[Posting]) -> tuple[np.ndarray, np.ndarray]:
    lat = np.array([p.lat for p in ps], dtype=float)
    lon = np.array([p.lon for p in ps], dtype=float)
    x = (lon - CENTRE[1]) * KM_PER_DEG_LAT * np.cos(np.radians(lat))
    y = (lat - CENTRE[0]) * KM_PER_DEG_LAT
    return x, y


def _days(ps: list[Posting], attr: str, open_value: float) -> np.ndarray:
    return np.array(
        [
            open_value if getattr(p, attr) is None else getattr(p, attr).toordinal()
            for p in ps
        ],
        dtype=float,
    )


def split(needs: list[Posting], offers: list[Posting]) -> list[Piece]:
    """The run as independent pieces (see the module docstring); every need
    in exactly one piece."""
    nx, ny = _plane(needs)
    ox, oy = _plane(offers)
    o_start, o_end = _days(offers, "start", -math.inf), _days(offers, "end", math.inf)
    n_start, n_end = _days(needs, "start", -math.inf), _days(needs, "end", math.inf)
    o_kind = np.array([p.kind for p in offers])
    buckets: dict[tuple[str, int, int], list[int]] = {}
    for i, p in enumerate(needs):
        key = (p.kind, int(nx[i] // CELL_KM), int(ny[i] // CELL_KM))
        buckets.setdefault(key, []).append(i)
    pieces = []
    for (kind, cx, cy), members in sorted(buckets.items()):
        idx = np.array(members)
        # The equirectangular plane is off by a few per cent over a region:
        # a generous margin keeps every allowed pair.
        reach = max(needs[i].max_km or math.inf for i in members) * 1.1 + 5.0
        x0, y0 = cx * CELL_KM - reach, cy * CELL_KM - reach
        x1, y1 = (cx + 1) * CELL_KM + reach, (cy + 1) * CELL_KM + reach
        lo, hi = n_start[idx].min(), n_end[idx].max()
        mask = (
            (o_kind == kind)
            & (ox >= x0)
            & (ox <= x1)
            & (oy >= y0)
            & (oy <= y1)
            & (o_start <= hi)
            & (o_end >= lo)
        )
        pieces.append(Piece([needs[i] for i in members], np.flatnonzero(mask).tolist()))
    return pieces


def rank_piece(
    model: Ranker, index: OfferIndex, piece: Piece, k: int = 10
) -> dict[str, list[Match]]:
    """One job: the piece's needs against its placements, read from the
    region's index (`OfferIndex.subset`: no placement is vectorised again).
    A worker of a job queue makes the index once and keeps it."""
    if not piece.offers:
        return {n.id: [] for n in piece.needs}
    return model.rank(piece.needs, index.subset(piece.offers), k=k)


def run(scale: float) -> dict[str, float]:
    vocab = jt.skill_vocabulary()
    side = BASE_SIDE_KM * math.sqrt(scale)
    n_needs, n_offers = int(BASE_NEEDS * scale), int(BASE_OFFERS * scale)
    t0 = time.perf_counter()
    needs = make(n_needs, "n", side, 1, vocab)
    offers = make(n_offers, "o", side, 2, vocab)
    made = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    sample = [needs[i] for i in rng.choice(n_needs, min(n_needs, 2000), replace=False)]
    sample += [
        offers[j] for j in rng.choice(n_offers, min(n_offers, 20000), replace=False)
    ]
    t0 = time.perf_counter()
    model = fit(sample)
    fitted = time.perf_counter() - t0
    t0 = time.perf_counter()
    pieces = split(needs, offers)
    split_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = model.index(offers)
    index_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    matched = 0
    for piece in pieces:
        matched += sum(len(v) for v in rank_piece(model, index, piece).values())
    ranked = time.perf_counter() - t0
    biggest = max(pieces, key=lambda p: len(p.needs) * len(p.offers))
    return {
        "scale": scale,
        "needs": n_needs,
        "offers": n_offers,
        "pieces": len(pieces),
        "offers_in_pieces": sum(len(p.offers) for p in pieces),
        "largest_piece": f"{len(biggest.needs)} x {len(biggest.offers)}",
        "pairs_in_pieces": sum(len(p.needs) * len(p.offers) for p in pieces),
        "matches": matched,
        "make_s": made,
        "fit_s": fitted,
        "split_s": split_s,
        "index_s": index_s,
        "rank_s": ranked,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="1,2,5,10")
    parser.add_argument("--child", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(run(args.child)))
        return
    print(
        "| scale | needs x placements | pieces | largest piece | placements in pieces "
        "| split s | index s | rank s | split + index + rank s | fit s (apart) "
        "| peak MB |"
    )
    print("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for scale in (float(s) for s in args.scales.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(scale)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"| {r['scale']:g}x | {r['needs']:,} x {r['offers']:,} | {r['pieces']} "
            f"| {r['largest_piece']} | {r['offers_in_pieces']:,} | {r['split_s']:.1f} "
            f"| {r['index_s']:.1f} | {r['rank_s']:.1f} "
            f"| {r['split_s'] + r['index_s'] + r['rank_s']:.1f} "
            f"| {r['fit_s']:.1f} | {r['peak_mb']:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
