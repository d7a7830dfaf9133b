"""Labelled images: the sources a space can name and the seeded split."""
