"""Pullbacks: control family."""
