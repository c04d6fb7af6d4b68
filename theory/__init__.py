"""gapcheck's theory: exact random-matrix laws, free multiplicative
convolution, the model description, and the registry of checked results.

Symbolic (sympy) and high-precision (mpmath) only: nothing here samples.
"""
__version__ = "0.1.0"
