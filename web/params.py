"""Numbers from URLs and query strings: ASCII digits in range, or nothing (never a 500)."""

from __future__ import annotations

from datetime import date

from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1  # BIGINT: a larger id can exist nowhere
MAX_SMALL = 10**6


def small_int(raw: str | None, *, maximum: int = MAX_SMALL) -> int | None:
    """``raw`` as a positive int when it is ASCII digits within ``maximum``, else None.

    ``"²".isdigit()`` is true and ``int("²")`` fails: only ASCII digits count."""
    if not raw or not raw.isascii() or not raw.isdigit() or len(raw) > len(str(maximum)):
        return None
    value = int(raw)
    return value if 0 < value <= maximum else None


def iso_date(raw: str | None) -> date | None:
    """``raw`` as a date when it is YYYY-MM-DD, else None."""
    if not raw or len(raw) != 10 or not raw.isascii():
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


class IdConverter(IntegerConverter):
    """``<int:…>`` in routes: an id a database column can hold; anything larger is a 404."""

    def __init__(self, map: object, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)  # type: ignore[arg-type]
