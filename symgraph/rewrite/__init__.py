"""Graph rewriting: an engine, named rules by family, and an ordered pipeline of phases."""
