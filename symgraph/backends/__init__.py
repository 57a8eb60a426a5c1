"""Backends turn a rewritten FunctionGraph into something callable."""
