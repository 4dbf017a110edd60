"""The ``duban`` command line: a delivery layer over the engine, like HTTP is for ``web``."""
