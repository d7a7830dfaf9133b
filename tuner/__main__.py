"""``python -m tuner`` runs the same command as the ``tuner`` console script."""

from tuner.cli import run

run()
