"""The C backend: whole-graph C per function, built by gcc, loaded by cffi (ABI mode)."""
