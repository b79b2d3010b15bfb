"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2) served at /open311/v2/, JSON and XML."""

PREFIX = "/open311/v2"
