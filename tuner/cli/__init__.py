"""The ``tuner`` command line: a thin layer over the library."""
