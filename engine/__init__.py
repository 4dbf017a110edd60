"""Duban's domain: policy, deadlines, clock, processes, persistence and the service layer.

Nothing here imports Flask or reads the wall clock outside ``engine.clock``.
"""
