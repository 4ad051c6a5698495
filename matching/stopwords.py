"""Swedish words that say nothing about why two postings match.

Two kinds: function words (och, under, för, ...) and the filler of school and
placement postings (företag, elever, läsåret, praktik, ...), which almost every
posting has. Compared by stem (`is_filler`), so inflections count too
("läsåret", "läsår"; "företaget", "företag").
"""

from __future__ import annotations

from functools import lru_cache

from matching.text import normalise, stem


def _listed(text: str) -> frozenset[str]:
    return frozenset(text.split())


FUNCTION_WORDS = _listed(
    """
    alla allt andra annan annat att av bara bland blev bli blir de dem den denna
    deras dess dessa det detta dig din dina ditt du där då efter eftersom ej
    eller en enligt er era ert ett från för före genom ha hade han hans har
    hela helt henne hennes hit hon honom hos hur här i ibland igen in inga
    ingen inget inom inte innan jag kan kommer kunde kring man med medan mellan
    men mer mest mig min mina mitt mot mycket många måste ni nu när någon något
    några och också om oss samt sedan sig sin sina sitt ska skall skulle som
    så sådan sådana till tills under upp ut utan utom vad var vara varit varje
    vart vem vi vid vilka vilken vilket vill våra vårt vår än ännu är även åt
    över
    """
)

POSTING_FILLER = _listed(
    """
    apl arbete arbeta berätta berättar arbetsplats arbetsplatsen dag dagar elev
    elever eleven
    eleverna erbjuder erbjuda företag företaget företagen gärna handledare
    handledaren hösten kontakt läsår läsåret läsårets möjlighet period perioden
    plats platsen platser praktik praktiken prao program programmet söker
    studiebesök gästföreläsning termin terminen vecka veckor veckan våren
    verksamhet verksamheten årskurs
    """
)

_STEMS = frozenset(stem(w) for w in FUNCTION_WORDS | POSTING_FILLER)


@lru_cache(maxsize=100_000)
def is_filler(word: str) -> bool:
    """True for a word (any case) that is a function word or posting filler,
    or too short to tell anyone anything (two letters or fewer)."""
    w = normalise(word)
    return len(w) <= 2 or w.isdigit() or w in FUNCTION_WORDS or stem(w) in _STEMS
