"""PubGrub version solving over finite bitmask version sets (pure: no I/O).

:func:`resolve.solver.solve.solve` is the entry point; the algorithm is in
:mod:`resolve.solver.engine`, the seam to the world in :mod:`resolve.solver.provider`.
"""
