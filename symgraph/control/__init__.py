"""Ops that contain graphs: Map (loops over an index), Scan (``sg.scan``) and IfElse (``sg.ifelse``)."""
