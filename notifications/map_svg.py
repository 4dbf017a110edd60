"""The province's cities as a choropleth: GeoJSON from a package, drawn as SVG or handed to
ECharts.

The city boundaries are ECharts 4's province map of Anhui (the npm package
``echarts-maps-data``, an alias of echarts@4.9.0, Apache-2.0), in its compressed "UTF8Encoding"
form; ``features`` decodes it into plain GeoJSON coordinates once. The same map colours the
cockpit (ECharts, in the browser) and is drawn here as SVG for the yearly bulletin and the
考核结果通报 (WeasyPrint renders inline SVG).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from engine.config import ROOT

MAP_FILE = ROOT / "node_modules" / "echarts-maps-data" / "map" / "json" / "province" / "anhui.json"
PALETTE = ("#d73027", "#fc8d59", "#fee08b", "#91cf60", "#1a9850")  # low (red) to high (green)
NO_DATA = "#d9d9d9"


@dataclass(frozen=True)
class Feature:
    """One city: its name, label point and rings of (lon, lat)."""

    name: str
    centre: tuple[float, float]
    rings: tuple[tuple[tuple[float, float], ...], ...]


def _decode_ring(text: str, offset: Sequence[int],
                 scale: float = 1024) -> list[tuple[float, float]]:
    """ECharts' decodePolygon: zigzag deltas of char codes from an offset."""
    x0, y0 = offset
    ring = []
    for i in range(0, len(text) - 1, 2):
        dx, dy = ord(text[i]) - 64, ord(text[i + 1]) - 64
        dx = (dx >> 1) ^ (-(dx & 1))
        dy = (dy >> 1) ^ (-(dy & 1))
        x0, y0 = x0 + dx, y0 + dy
        ring.append((x0 / scale, y0 / scale))
    return ring


def _rings(geometry: Mapping[str, Any], encoded: bool) -> list[list[tuple[float, float]]]:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" \
        else [geometry["coordinates"]]
    offsets = geometry.get("encodeOffsets") or []
    if geometry["type"] != "MultiPolygon":
        offsets = [offsets]
    out = []
    for p, polygon in enumerate(polygons):
        for r, ring in enumerate(polygon):
            out.append(_decode_ring(ring, offsets[p][r]) if encoded
                       else [(float(x), float(y)) for x, y in ring])
    return out


@functools.cache
def features(path: Path = MAP_FILE) -> tuple[Feature, ...]:
    """The cities of the map file, decoded; () when the package is not installed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    encoded = bool(data.get("UTF8Encoding"))
    return tuple(Feature(f["properties"]["name"], tuple(f["properties"].get("cp", (0, 0))),
                         tuple(tuple(r) for r in _rings(f["geometry"], encoded)))
                 for f in data["features"])


def geojson() -> dict[str, Any]:
    """Plain GeoJSON (decoded) for ECharts' registerMap in the browser."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": f.name, "cp": list(f.centre)},
         "geometry": {"type": "MultiPolygon",
                      "coordinates": [[[list(p) for p in ring]] for ring in f.rings]}}
        for f in features()]}


def colour(value: float | None, low: float, high: float) -> str:
    """A palette colour for ``value`` between ``low`` and ``high``; grey without a value."""
    if value is None:
        return NO_DATA
    if high <= low:
        return PALETTE[-1]
    step = min(len(PALETTE) - 1, int((value - low) / (high - low) * len(PALETTE)))
    return PALETTE[max(0, step)]


def svg(values: Mapping[str, float | None], *, title: str, unit: str = "",
        scale_range: tuple[float, float] | None = None, width: int = 440,
        height: int = 520) -> str:
    """The cities coloured by ``values`` (city name -> value), labelled, with a legend; the
    colours span ``scale_range`` (0-100 for rates) or the values' own range."""
    found = features()
    if not found:
        return ""
    points = [p for f in found for ring in f.rings for p in ring]
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    squeeze = math.cos(math.radians((north + south) / 2))
    zoom = min((width - 20) / ((east - west) * squeeze), (height - 70) / (north - south))

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return 10 + (lon - west) * squeeze * zoom, 30 + (north - lat) * zoom

    known = [v for v in values.values() if v is not None]
    low, high = scale_range or ((min(known), max(known)) if known else (0.0, 1.0))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" font-size="11" role="img" '
             f'aria-label="{escape(title)}">',
             f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="13">'
             f'{escape(title)}</text>']
    for f in found:
        d = " ".join("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in (xy(*p) for p in ring)) + "Z"
                     for ring in f.rings)
        fill = colour(values.get(f.name), low, high)
        parts.append(f'<path d="{d}" fill="{fill}" stroke="#ffffff" stroke-width="0.8">'
                     f"<title>{escape(f.name)}</title></path>")
    for f in found:
        x, y = xy(*f.centre)
        value = values.get(f.name)
        text = f.name.removesuffix("市") + ("" if value is None else f" {value:g}{unit}")
        parts.append(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle">{escape(text)}</text>')
    parts.append(_legend(low, high, unit, height))
    parts.append("</svg>")
    return "".join(parts)


def _legend(low: float, high: float, unit: str, height: int) -> str:
    """Five swatches from low to high, and grey for no data."""
    step = (high - low) / len(PALETTE) if high > low else 0
    out = []
    for n, fill in enumerate(PALETTE):
        y = height - 20 - 14 * (len(PALETTE) - n)
        out.append(f'<rect x="10" y="{y}" width="12" height="10" fill="{fill}"/>'
                   f'<text x="26" y="{y + 9}">{low + n * step:.0f}{unit}以上</text>')
    out.append(f'<rect x="10" y="{height - 18}" width="12" height="10" fill="{NO_DATA}"/>'
               f'<text x="26" y="{height - 9}">无数据</text>')
    return "".join(out)
