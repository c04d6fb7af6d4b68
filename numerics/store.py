"""The store of a chunked sweep: a Parquet dataset in a directory, one file per
finished chunk, plus ``_spec.json``, the sweep's specification.

* A chunk is written to a temporary file (``.<name>.tmp-<pid>-<random>``) and
  renamed into place (``os.replace``, atomic on one file system): a chunk file
  either is whole or does not exist.  A process killed mid-write leaves only a
  temporary file, which the next run removes (the chunk is redone).
* ``_spec.json`` records the sweep's specification.  Opening the store for a
  different specification is refused, naming the fields that differ.
* The directory is an ordinary Parquet dataset: pyarrow, pandas and Dask read
  it directly (they skip names starting with ``_`` or ``.``), e.g.
  ``pandas.read_parquet(DIR)``.

:class:`MemoryStore` has the same interface and keeps the chunks in memory
(``sweep()`` without a store).

>>> import pyarrow as pa, tempfile
>>> d = tempfile.mkdtemp()
>>> s = ParquetStore(d + "/s").open({"seed": 0})
>>> s.write("c1", pa.table({"value": [1.0, 2.0]}))
>>> sorted(s.done()), s.read("c1").column("value").to_pylist()
(['c1'], [1.0, 2.0])
>>> ParquetStore(d + "/s").open({"seed": 1})
Traceback (most recent call last):
...
ValueError: the store ... holds a different sweep (seed: 0 in the store, 1 now); resume with the same options, or use another --out directory
"""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

__all__ = ["ParquetStore", "MemoryStore", "SPEC_FILE", "check_out_dir", "check_out_file"]

SPEC_FILE = "_spec.json"
SUFFIX = ".parquet"


def _writable_ancestor(path: Path, name: str) -> None:
    """The nearest existing ancestor of ``path`` must be a writable directory."""
    p = path.absolute().parent
    while not p.exists():
        p = p.parent
    if not p.is_dir():
        raise ValueError(f"{name} {str(path)!r}: {str(p)!r} is not a directory")
    if not os.access(p, os.W_OK | os.X_OK):
        raise ValueError(f"{name} {str(path)!r}: directory {str(p)!r} is not writable")


def check_out_dir(path, name="--out") -> Path:
    """Validate a store directory before any work: a new directory that can be
    created, or an existing sweep store (``_spec.json``), or an empty directory."""
    path = Path(path)
    if str(path).lower().endswith(".csv"):
        raise ValueError(f"{name} is the Parquet dataset directory of the sweep (got {str(path)!r}); "
                         f"write CSV with --csv FILE")
    if path.exists():
        if not path.is_dir():
            raise ValueError(f"{name} {str(path)!r} exists and is not a directory")
        if not os.access(path, os.W_OK | os.X_OK):
            raise ValueError(f"{name} {str(path)!r} is not writable")
        if not (path / SPEC_FILE).exists() and any(path.iterdir()):
            raise ValueError(f"{name} {str(path)!r} is a non-empty directory that is not a gapcheck "
                             f"sweep store (no {SPEC_FILE}); choose a new or empty directory")
    else:
        _writable_ancestor(path, name)
    return path


def check_out_file(path, name="--csv") -> Path:
    """Validate an output file before any work: its directory exists and is writable."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{name} {str(path)!r} is a directory, not a file")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise ValueError(f"{name} {str(path)!r}: directory {str(parent)!r} does not exist")
    if path.exists() and not os.access(path, os.W_OK):
        raise ValueError(f"{name} {str(path)!r} is not writable")
    if not path.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{name} {str(path)!r}: directory {str(parent)!r} is not writable")
    return path


def _differences(stored: dict, spec: dict) -> str:
    keys = sorted(set(stored) | set(spec))
    diffs = [f"{k}: {_short(stored.get(k))} in the store, {_short(spec.get(k))} now"
             for k in keys if stored.get(k) != spec.get(k)]
    return "; ".join(diffs[:4]) + ("; ..." if len(diffs) > 4 else "")


def _short(v, width=60):
    s = json.dumps(v) if not isinstance(v, (int, float)) else repr(v)
    return s if len(s) <= width else s[:width - 3] + "..."


class ParquetStore:
    """A sweep store in directory ``path`` (see the module docstring)."""

    def __init__(self, path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"ParquetStore({str(self.path)!r})"

    def open(self, spec: dict) -> "ParquetStore":
        """Create the store for ``spec`` or check that it holds the same sweep."""
        check_out_dir(self.path, "store")
        self.path.mkdir(parents=True, exist_ok=True)
        f = self.path / SPEC_FILE
        if f.exists():
            try:
                stored = json.loads(f.read_text())
            except (OSError, ValueError) as exc:
                raise ValueError(f"the store {str(self.path)!r} has an unreadable {SPEC_FILE} "
                                 f"({exc}); use another --out directory") from None
            if stored != json.loads(json.dumps(spec)):
                raise ValueError(f"the store {str(self.path)!r} holds a different sweep "
                                 f"({_differences(stored, spec)}); resume with the same options, "
                                 f"or use another --out directory")
        else:
            self._atomic_write(f, json.dumps(spec, indent=1, sort_keys=True).encode())
        return self

    def _atomic_write(self, final: Path, data: bytes | None = None, table=None) -> None:
        tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        try:
            if table is not None:
                import pyarrow.parquet as pq
                pq.write_table(table, tmp)
            else:
                tmp.write_bytes(data)
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                tmp.unlink()

    def done(self) -> set:
        """Names of the finished chunks; removes temporary files of killed writes
        and chunk files whose Parquet footer is unreadable (they are redone)."""
        import pyarrow.parquet as pq
        names = set()
        for p in self.path.iterdir():
            if p.name.startswith(".") and ".tmp-" in p.name:
                p.unlink(missing_ok=True)
            elif p.suffix == SUFFIX and not p.name.startswith(("_", ".")):
                try:
                    pq.read_metadata(p)
                except (OSError, ValueError):
                    p.unlink(missing_ok=True)
                    continue
                names.add(p.name[:-len(SUFFIX)])
        return names

    def write(self, name: str, table) -> None:
        """Write one finished chunk atomically."""
        self._atomic_write(self.path / f"{name}{SUFFIX}", table=table)

    def read(self, name: str):
        import pyarrow.parquet as pq
        return pq.read_table(self.path / f"{name}{SUFFIX}")


class MemoryStore:
    """The same interface, in memory."""

    def __init__(self):
        self.tables = {}

    def open(self, spec: dict) -> "MemoryStore":
        return self

    def done(self) -> set:
        return set(self.tables)

    def write(self, name: str, table) -> None:
        self.tables[name] = table

    def read(self, name: str):
        return self.tables[name]
