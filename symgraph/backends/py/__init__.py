"""The NumPy reference backend: the definition of what every op computes."""
