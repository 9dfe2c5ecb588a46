"""Scaling benchmarks: how each cost grows with the size of the work.

``python -m benchmarks.scaling`` measures curves (a cost against a size over
several orders of magnitude), for this package and, with ``--compare``, for
a reference joblib, and writes one CSV and one log-log PNG per curve.  See
``docs/benchmarks.rst`` ("Scaling") for the curves and how to read them.
"""
