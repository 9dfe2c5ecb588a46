"""``python -m joblib``: the command line (see :mod:`joblib._cli`)."""

import sys

from joblib._cli import main

if __name__ == "__main__":
    sys.exit(main())
