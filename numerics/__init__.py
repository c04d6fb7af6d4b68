"""gapcheck's numerics: batched random-matrix samplers of attention-only
networks at initialisation (numpy, CuPy optional), measures, gradient norms,
sweeps, and the empirical checks of :mod:`theory`'s results."""
