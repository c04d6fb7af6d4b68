"""Companion works of "Mind the Gap" as checked results (see
``docs/derivations.md``, companion sections): Giorlandino-Goldt (``gg.*``), Noci et al.
(``noci.*``), Daneshmand et al. (``bn.*``), Dong et al. (``dong.*``) and an
audit of the head-channel claims (``audit.*``); gapcheck's own key-query bulk law (``kq.*``);
published theories of the block's ingredients: Kedia et al. (``kedia.*``) and Wu et al. (``wu.*``).

Importing this package imports every module in it, which registers the results.
"""
import importlib as _importlib
import pkgutil as _pkgutil

#: families in the order of the issue (value to a theorist); modules not listed
#: here are imported after them, alphabetically
ORDER = ["gg", "noci", "bn", "dong", "audit", "kq", "arch", "kedia", "wu"]

_names = [m.name for m in _pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
for _name in sorted(_names, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n)):
    _importlib.import_module(f"{__name__}.{_name}")
