"""How much each part of a match's score counts."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from matching.errors import InvalidWeights

PART_NAMES = ("text", "skills", "period", "distance", "capacity")
"""The parts of a score, in the order of `Weights.part_weights`."""


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each part counts in a match's score (a weighted mean of parts).

    `latent`, `paired` and `chars` mix three text similarities into the ``text``
    part: cosine in the latent space (LSA of character n-grams), in the paired
    space (a CCA learned from halves of the same postings, see `Ranker`) and in
    raw character n-grams. `text`, `skills`, `period`, `distance` and `capacity`
    weigh the parts; `distance_scale_km` is the distance at which the
    ``distance`` part has fallen to 1/e.

    How the defaults were obtained:
    - `latent`/`paired`/`chars`: the latent and the paired cosine, half and
      half. Measured on four posting shapes (bench/quality.py: skill list,
      definition, short title against skill lists, title against titles with
      definitions), this mix is at or above the character TF-IDF baseline on
      each, where the paired space alone (what self-supervised retrieval of
      one half from the other picks) fell to the baseline on short titles.
      When the corpus is too small for a paired space, `Ranker.fit` falls
      back to the latent or the raw character cosine (`matching.fit.choose_mix`).
    - `skills` is 0: the share of the need's skill labels that the offer also
      lists. An identical label already gives identical n-grams, so the text
      part counts it, and the self-supervised halves (disjoint by construction)
      cannot teach what an extra weight is worth. The part is still computed
      and shown, and `moraspar refit-ranker` gives it a weight when the
      council's decisions show one helps. (A weight of 0.05 lowers T1, as
      `bench/README.md` measures: in T1 a need never shares a label with its
      own group's offer.)
    - `period`, `distance`, `capacity`, `distance_scale_km`: no data with real
      placements exists to learn them from, so they are kept small enough that
      a clearly better text match still wins; they reorder offers of similar
      relevance.
    """

    latent: float = 0.5
    paired: float = 0.5
    chars: float = 0.0
    text: float = 0.8
    skills: float = 0.0
    period: float = 0.05
    distance: float = 0.05
    capacity: float = 0.05
    distance_scale_km: float = 25.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise InvalidWeights(f"weight {f.name} must be a finite number")
            if value < 0:
                raise InvalidWeights(f"weight {f.name} must be >= 0, got {value}")
        if self.latent + self.paired + self.chars <= 0:
            raise InvalidWeights("latent + paired + chars must be > 0")
        total = sum(self.part_weights())
        if total <= 0:
            raise InvalidWeights("at least one part weight must be > 0")
        if not math.isfinite(total) or not math.isfinite(
            self.latent + self.paired + self.chars
        ):
            raise InvalidWeights("the weights are too large to add up")
        if self.distance_scale_km <= 0:
            raise InvalidWeights("distance_scale_km must be > 0")

    def text_mix(self) -> tuple[float, float, float]:
        """(latent, paired, chars), normalised to sum to 1."""
        total = self.latent + self.paired + self.chars
        return (self.latent / total, self.paired / total, self.chars / total)

    def part_weights(self) -> tuple[float, float, float, float, float]:
        """Weights in the order of `PART_NAMES`."""
        return (self.text, self.skills, self.period, self.distance, self.capacity)
