"""``python -m tuner`` runs the same command as the ``tuner`` console script."""

from tuner.cli.main import run

run()
