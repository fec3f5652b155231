"""HTTP content negotiation: Accept headers with q-values, and format= overrides."""

from __future__ import annotations

from santecyber.sparql import FORMAT_NAMES


def accepted_media_types(accept: str | None) -> list[str]:
    """Media types of an Accept header, most preferred first; q=0 ones are dropped.

    >>> accepted_media_types("text/csv;q=0.5, application/sparql-results+json")
    ['application/sparql-results+json', 'text/csv']
    """
    if not accept:
        return []
    ranked = []
    for position, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media_type, quality = fields[0].lower(), 1.0
        for parameter in fields[1:]:
            if parameter.startswith("q="):
                try:
                    quality = float(parameter[2:])
                except ValueError:
                    quality = 0.0
        if media_type and quality > 0:
            ranked.append((-quality, position, media_type))
    return [media_type for _, _, media_type in sorted(ranked)]


def format_override(name: str | None) -> str | None:
    """The media type for a ``format=``/``output=`` value (short name or media type)."""
    if name is None:
        return None
    return FORMAT_NAMES.get(name.lower(), name)
