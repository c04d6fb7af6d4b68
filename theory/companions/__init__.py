"""Companion works of "Mind the Gap" as checked results (see
``shared/theory/COMPANIONS.md``): Giorlandino-Goldt (``gg.*``), Noci et al.
(``noci.*``), Daneshmand et al. (``bn.*``), Dong et al. (``dong.*``) and an
audit of the head-channel claims (``audit.*``).

Importing this package imports every module in it, which registers the results.
"""
import importlib as _importlib
import pkgutil as _pkgutil

for _info in sorted(_pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if not _info.name.startswith("_"):
        _importlib.import_module(f"{__name__}.{_info.name}")
