"""British National Grid arithmetic: grid metres to latitude/longitude (WGS84), no pyproj.

Rule: pure functions. The projection is Ordnance Survey's inverse transverse Mercator on the
Airy 1830 ellipsoid ("A guide to coordinate systems in Great Britain", annex C), followed by
the seven-parameter Helmert shift from OSGB36 to WGS84, good to about 5 metres: enough to
show a place on a map, never used for travel (travel uses grid metres directly).
"""

from __future__ import annotations

import math

# Airy 1830 ellipsoid and the National Grid's true origin.
_AIRY_A, _AIRY_B = 6377563.396, 6356256.909
_F0 = 0.9996012717
_LAT0, _LON0 = math.radians(49.0), math.radians(-2.0)
_E0, _N0 = 400000.0, -100000.0
# GRS80 / WGS84 ellipsoid.
_WGS_A, _WGS_B = 6378137.0, 6356752.3141
# Helmert OSGB36 -> WGS84: the negated WGS84 -> OSGB36 parameters of the OS guide.
_TX, _TY, _TZ = 446.448, -125.157, 542.060
_SCALE_PPM = -20.4894
_ARCSEC = math.pi / (180 * 3600)
_RX, _RY, _RZ = 0.1502 * _ARCSEC, 0.2470 * _ARCSEC, 0.8421 * _ARCSEC

GB_EASTING = (0.0, 700000.0)
GB_NORTHING = (0.0, 1300000.0)
"""The National Grid's extent in metres: any grid reference in Great Britain lies inside."""


def _meridional_arc(lat: float) -> float:
    a, b = _AIRY_A, _AIRY_B
    n = (a - b) / (a + b)
    dl, sl = lat - _LAT0, lat + _LAT0
    return (
        b
        * _F0
        * (
            (1 + n + 5 / 4 * n**2 + 5 / 4 * n**3) * dl
            - (3 * n + 3 * n**2 + 21 / 8 * n**3) * math.sin(dl) * math.cos(sl)
            + (15 / 8 * n**2 + 15 / 8 * n**3) * math.sin(2 * dl) * math.cos(2 * sl)
            - 35 / 24 * n**3 * math.sin(3 * dl) * math.cos(3 * sl)
        )
    )


def grid_to_osgb36(easting: float, northing: float) -> tuple[float, float]:
    """OSGB36 latitude and longitude in degrees of a National Grid reference in metres."""
    a = _AIRY_A
    e2 = 1 - (_AIRY_B / a) ** 2
    lat = (northing - _N0) / (a * _F0) + _LAT0
    arc = _meridional_arc(lat)
    while abs(northing - _N0 - arc) >= 1e-5:
        lat += (northing - _N0 - arc) / (a * _F0)
        arc = _meridional_arc(lat)
    sin_lat, cos_lat, tan_lat = math.sin(lat), math.cos(lat), math.tan(lat)
    nu = a * _F0 / math.sqrt(1 - e2 * sin_lat**2)
    rho = a * _F0 * (1 - e2) / (1 - e2 * sin_lat**2) ** 1.5
    eta2 = nu / rho - 1
    t2, t4, t6 = tan_lat**2, tan_lat**4, tan_lat**6
    sec = 1 / cos_lat
    vii = tan_lat / (2 * rho * nu)
    viii = tan_lat / (24 * rho * nu**3) * (5 + 3 * t2 + eta2 - 9 * t2 * eta2)
    ix = tan_lat / (720 * rho * nu**5) * (61 + 90 * t2 + 45 * t4)
    x = sec / nu
    xi = sec / (6 * nu**3) * (nu / rho + 2 * t2)
    xii = sec / (120 * nu**5) * (5 + 28 * t2 + 24 * t4)
    xiia = sec / (5040 * nu**7) * (61 + 662 * t2 + 1320 * t4 + 720 * t6)
    de = easting - _E0
    phi = lat - vii * de**2 + viii * de**4 - ix * de**6
    lam = _LON0 + x * de - xi * de**3 + xii * de**5 - xiia * de**7
    return math.degrees(phi), math.degrees(lam)


def _to_cartesian(lat: float, lon: float, a: float, b: float) -> tuple[float, float, float]:
    e2 = 1 - (b / a) ** 2
    phi, lam = math.radians(lat), math.radians(lon)
    nu = a / math.sqrt(1 - e2 * math.sin(phi) ** 2)
    return (
        nu * math.cos(phi) * math.cos(lam),
        nu * math.cos(phi) * math.sin(lam),
        (1 - e2) * nu * math.sin(phi),
    )


def _to_geodetic(x: float, y: float, z: float, a: float, b: float) -> tuple[float, float]:
    e2 = 1 - (b / a) ** 2
    p = math.hypot(x, y)
    phi = math.atan2(z, p * (1 - e2))
    for _ in range(10):
        nu = a / math.sqrt(1 - e2 * math.sin(phi) ** 2)
        phi = math.atan2(z + e2 * nu * math.sin(phi), p)
    return math.degrees(phi), math.degrees(math.atan2(y, x))


def grid_to_latlon(easting: float, northing: float) -> tuple[float, float]:
    """WGS84 latitude and longitude in degrees (rounded to 6 places) of a grid reference."""
    x, y, z = _to_cartesian(*grid_to_osgb36(easting, northing), _AIRY_A, _AIRY_B)
    s = 1 + _SCALE_PPM * 1e-6
    x2 = _TX + s * x - _RZ * y + _RY * z
    y2 = _TY + _RZ * x + s * y - _RX * z
    z2 = _TZ - _RY * x + _RX * y + s * z
    lat, lon = _to_geodetic(x2, y2, z2, _WGS_A, _WGS_B)
    return round(lat, 6), round(lon, 6)


def grid_metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Straight-line distance in metres between two grid references (easting, northing)."""
    return math.hypot(a[0] - b[0], a[1] - b[1])
