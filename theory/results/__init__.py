"""Results of "Mind the Gap" (Naderi, Nait Saada, Tanner; arXiv 2410.07799 v1).

Importing this package registers every result (see :mod:`theory.registry`).
One module per result, named after its id.
"""
