"""Rewrite rules by family; each module exposes RuleSets that pipeline.py puts in phases."""
