"""Shared pytest configuration for the joblib test suite."""

from __future__ import annotations

import os
import sys

import pytest

# Make the repository's ``joblib`` importable when the tests run from a
# checkout (``python -m pytest`` already puts the cwd first on sys.path).
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


@pytest.fixture(scope="session")
def s3_server():
    """One real S3 API server (moto) on 127.0.0.1 for the whole session."""
    pytest.importorskip("moto.server", reason='needs "joblib[test]" (moto[server])')
    pytest.importorskip("s3fs")
    from _s3_server import start_server

    server = start_server()
    yield server
    server.stop()
