"""Rewrite rules, by family. Each module exposes lists of LocalRewrite for the pipeline."""
