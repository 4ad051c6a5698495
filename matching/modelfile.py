"""A fitted model in one file: numpy arrays and a JSON header, no pickle.

The file is an ``.npz`` archive (``numpy.savez``) read back with
``allow_pickle=False``, so loading a file never runs code from it. The array
``header`` holds UTF-8 JSON: the format name, its version, the model's
parameters and weights; the other arrays are the fitted vocabulary and spaces.
A file of another version, or one that is damaged, raises `InvalidModelFile`
(`UnsupportedModelVersion` for a version this library cannot read).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.errors import InvalidModelFile, UnsupportedModelVersion

FORMAT = "moraspar-matching-model"
VERSION = 1
"""Raised whenever the arrays or their meaning change; older files are then
refused (refit rather than misread)."""


def write(
    path: str | PathLike[str],
    header: Mapping[str, Any],
    arrays: Mapping[str, npt.NDArray[Any]],
) -> None:
    """Write `header` (JSON-serialisable) and `arrays` to `path`."""
    payload = {"format": FORMAT, "version": VERSION, **header}
    encoded = np.frombuffer(json.dumps(payload).encode("utf-8"), dtype=np.uint8)
    for name, array in arrays.items():
        if array.dtype == object:
            raise TypeError(f"array {name!r} would need pickle")
    buffer = io.BytesIO()
    np.savez(buffer, header=encoded, **dict(arrays))  # type: ignore[arg-type]
    Path(path).write_bytes(buffer.getvalue())


def read(
    path: str | PathLike[str], names: tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    """The header and the arrays `names` of the model file at `path`."""
    try:
        # Read whole, so a damaged file leaves no handle open behind it.
        content = io.BytesIO(Path(path).read_bytes())
        with np.load(content, allow_pickle=False) as archive:
            raw = archive["header"]
            header = json.loads(raw.tobytes().decode("utf-8"))
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise InvalidModelFile(f"{path}: not a matching model file")
            version = header.get("version")
            if version != VERSION:
                raise UnsupportedModelVersion(
                    f"{path}: model file version {version!r}, this library reads "
                    f"version {VERSION}; fit the model again",
                    version=version,
                )
            arrays = {name: archive[name] for name in names}
    except InvalidModelFile:
        raise
    except FileNotFoundError as e:
        raise InvalidModelFile(f"{path}: no such model file") from e
    except (
        OSError,
        ValueError,
        KeyError,
        EOFError,
        zipfile.BadZipFile,
        UnicodeDecodeError,
    ) as e:
        # np.load raises ValueError for pickled or unreadable content, KeyError
        # for a missing array, BadZipFile / EOFError / OSError for a damaged
        # archive; json raises ValueError.
        raise InvalidModelFile(f"{path}: damaged model file ({e})") from e
    return header, arrays
