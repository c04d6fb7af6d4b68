"""Exact random-matrix laws and free multiplicative convolution.

>>> from gapcheck.theory.laws import MarchenkoPastur, FussCatalan, free_product
>>> free_product(MarchenkoPastur(1), MarchenkoPastur(1)).moments(4) == FussCatalan(2).moments(4)
True
"""
from .base import AlgebraicLaw, SpectralLaw
from .free_product import FreeAlgebraicProduct, FreeProduct, free_product
from .fuss_catalan import FussCatalan
from .key_query_bulk import KeyQueryBulk
from .marchenko_pastur import MarchenkoPastur
from .quarter_circle import QuarterCircle

__all__ = ["SpectralLaw", "AlgebraicLaw", "MarchenkoPastur", "QuarterCircle", "FussCatalan",
           "free_product", "FreeProduct", "FreeAlgebraicProduct", "KeyQueryBulk"]
