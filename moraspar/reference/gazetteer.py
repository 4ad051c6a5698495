"""Localities of Mora municipality and its neighbours Orsa and Älvdalen.

Approximate centre coordinates (WGS84, decimal degrees), good to about a
kilometre: enough for travel-distance filters between villages.
"""

from math import asin, cos, radians, sin, sqrt

LOCALITIES: dict[str, tuple[float, float]] = {
    "Mora": (61.0047, 14.5372),
    "Noret": (61.0105, 14.5560),
    "Färnäs": (60.9960, 14.6300),
    "Östnor": (61.0560, 14.5900),
    "Nusnäs": (60.9630, 14.6490),
    "Sollerön": (60.9110, 14.6100),
    "Venjan": (60.9480, 13.9200),
    "Våmhus": (61.1180, 14.4800),
    "Bonäs": (61.0820, 14.4330),
    "Oxberg": (61.1160, 14.1880),
    "Garsås": (61.0320, 14.6580),
    "Vinäs": (60.9330, 14.5650),
    "Selja": (61.0700, 14.6400),
    "Orsa": (61.1200, 14.6160),
    "Älvdalen": (61.2260, 14.0400),
    "Sälen": (61.1580, 13.2660),
}


def coordinates(locality: str) -> tuple[float, float] | None:
    return LOCALITIES.get(locality.strip())


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(radians, (*a, *b))
    h = (
        sin((lat2 - lat1) / 2) ** 2
        + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * asin(sqrt(h))
