"""``python -m tuner`` runs the same command as the ``tuner`` console script."""

import sys

from tuner.cli import main

sys.exit(main())
