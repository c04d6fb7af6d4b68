"""Results of "Mind the Gap" (Naderi, Nait Saada, Tanner; arXiv 2410.07799 v1).

One module per result, named after its id (``prop3.py``, ``def1_1.py``);
importing this package imports each of them, which registers the result
(see :mod:`theory.registry`). The order of the paper is kept by ``ORDER``.
"""
import importlib as _importlib

ORDER = ["def1_1", "prop1", "thm2", "prop3", "prop4", "prop5", "prop6", "prop7", "prop8",
         "lemma1", "lemma2", "lemma3", "lemma4", "thm9", "thm10"]

for _name in ORDER:
    try:
        _importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _exc:  # a result module not written yet
        if _exc.name != f"{__name__}.{_name}":
            raise
