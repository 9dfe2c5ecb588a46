"""Implementation of :mod:`joblib.hashing` (fast, joblib-1.6-compatible streams)."""
