"""tuner: find a good CNN for an image task from a YAML search space, with keras-tuner."""

__version__ = "0.1.0"
