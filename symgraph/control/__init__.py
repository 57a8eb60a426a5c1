"""Ops that contain graphs: Map (loops over an index), later scan and ifelse."""
