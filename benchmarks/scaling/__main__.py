"""``python -m benchmarks.scaling``: measure the curves (see ``run``)."""

from __future__ import annotations

import sys

from benchmarks.scaling.run import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main())
