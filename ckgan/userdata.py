"""Users' own data: a CSV of labels, optionally naming images, or a CelebA-style file.

``open_user_data`` is what ``ckgan.load_dataset`` calls for a ``.csv`` path or
any existing path. Label files are parsed once: binary columns (0/1, -1/1,
true/false) into uint8 0/1, other columns by their values, each a state
name (``yes``, ``old``) or an integer. A column that cannot be a label is
remembered with its first bad cell, so that it is an error only when a
graph asks for it (ids, file names and notes are ignored). The readers are
shared with the CelebA plugin.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .dataset import SPLITS, Dataset, check_split
from .errors import CkganError
from .states import BINARY as BINARY_STATES
from .states import MAX_STATES, check_states, default_order, is_integer_text

#: accepted spellings of a binary value (after stripping spaces and lower-casing)
BINARY = {"0": 0, "1": 1, "-1": 0, "+1": 1, "false": 0, "true": 1}
#: each spelling's code while parsing: 0/1 value = ``_VALUE[code]``; a column must
#: keep to one coding, so -1 next to 0 (is -1 a zero or a typo?) is an error.
_CODES = {"0": 0, "1": 1, "-1": 2, "+1": 3, "false": 4, "true": 5}
_SPELLING = ("0", "1", "-1", "+1", "false", "true")
_VALUE = np.array([0, 1, 0, 1, 0, 1] + [0] * 250, dtype=np.uint8)
#: the codings and the codes each allows ("1" belongs to both numeric ones)
_CODINGS = {"0/1": (0, 1), "-1/1": (1, 2, 3), "true/false": (4, 5)}
_BAD = 255
_SPLIT_IDS = {"train": 0, "validation": 1, "test": 2}
_SPECIAL = ("filename", "split")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_COUNT = re.compile(r"[0-9]+")  # not str.isdigit, which takes "²"
ATTRIBUTE_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"


@dataclass
class LabelTable:
    """The columns of one label file: binary ones as 0/1 uint8, named ones by their values.

    A column whose every cell is a binary spelling (``0/1``, ``-1/1``,
    ``true/false``) in one coding is ``binary``, as it always was. Any other
    column is ``named``: its distinct values (state names, or integers as
    text; binary spellings among them in lower case) in first-appearance
    order, and each row's index into them. A column that cannot be a label
    (an empty cell, more than ``MAX_STATES`` distinct values, a value that
    cannot be a state name, two binary codings) is in ``bad`` with its
    first offending cell, and ``why`` says which; it is an error only when a
    graph asks for it (ids, file names and notes are ignored).
    ``lines`` holds each row's line number in the file, for error messages.
    """

    path: Path
    columns: list[str]
    binary: dict[str, np.ndarray] = field(default_factory=dict)
    #: a binary column's coding's spellings of 0 and 1 (``("false", "true")``, ``("0", "1")``)
    spellings: dict[str, tuple[str, str]] = field(default_factory=dict)
    named: dict[str, tuple[tuple[str, ...], np.ndarray]] = field(default_factory=dict)
    bad: dict[str, tuple[int, str]] = field(default_factory=dict)
    mixed: dict[str, str] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)
    lines: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    filenames: list[str] | None = None
    split_values: list[str] | None = None

    @property
    def attributes(self) -> tuple[str, ...]:
        """The label columns, in file order (``filename`` and ``split`` never count)."""
        return tuple(
            c
            for c in self.columns
            if (c in self.binary or c in self.named) and c.lower() not in _SPECIAL
        )

    def check_column(self, name: str) -> None:
        """Raise a ``CkganError`` if ``name`` is missing from the file or cannot be a label."""
        if name in self.attributes:
            return
        column = _quoted(name)
        if name.lower() in _SPECIAL and name in self.columns:
            raise CkganError(
                f"column {column} of {self.path} names files or splits, not labels; rename the node"
            )
        if name not in self.bad:
            shown = ", ".join(c if c.isprintable() else repr(c) for c in self.columns if c)
            shown = shown or "none"
            raise CkganError(
                f"column {column} is not in {self.path} (its columns: {shown}); "
                "add it or use a graph without that node"
            )
        line, value = self.bad[name]
        why = self.why.get(name)
        if name in self.mixed:
            raise CkganError(
                f"column {column} of {self.path} mixes codings: line {line} has {value!r} but "
                f"{self.mixed[name]}; use one of 0/1, -1/1 or true/false in a column"
            )
        if why == "empty":
            raise CkganError(
                f"column {column} of {self.path} has an empty cell on line {line}: every row "
                "needs a value (a state name or an integer)"
            )
        if why == "many":
            raise CkganError(
                f"column {column} of {self.path} has more than {MAX_STATES} distinct values: "
                f"line {line} has {value!r}, distinct value number {MAX_STATES + 1}; a label "
                f"has 2 to {MAX_STATES} states (is it an id, a count or a measurement?)"
            )
        raise CkganError(
            f"column {column} of {self.path}: line {line} has {value!r}, which cannot be a "
            "state name (printable, no comma or double quote)"
        )

    def default_states(self, name: str) -> tuple[str, ...]:
        """The states of column ``name`` when nothing declares them (``default_order``).

        Binary columns are ``("0", "1")``; a named column with one value only
        is an error (its other states are unknown).
        """
        self.check_column(name)
        if name in self.binary:
            return BINARY_STATES
        values, _ = self.named[name]
        if len(values) < 2:
            raise CkganError(
                f"column {_quoted(name)} of {self.path} holds one value only ({values[0]!r} on "
                "every row): a label needs 2 or more states; declare them in the graph "
                "(a BIF file, or 'states' in a JSON graph) or leave the node out"
            )
        return check_states(name, default_order(values), f"column {_quoted(name)} of {self.path}")

    def codes(self, name: str, states: Sequence[str] | None = None) -> np.ndarray:
        """Column ``name`` as uint8 codes of ``states`` (default: ``default_states``).

        Each value must be one of the states (exactly, else ignoring case:
        ``true`` is ``TRUE``); where none of them is, a column of integers is
        read as codes ``0 .. k-1`` (bnlearn's data files write states as their
        indices). A binary column of true/false reads as its words, one of
        0/1 or -1/1 as codes 0 and 1. Errors name the column, line and value.
        """
        self.check_column(name)
        default = self.default_states(name) if states is None else None
        states = tuple(default or states)  # type: ignore[arg-type]
        where = f"column {_quoted(name)} of {self.path}"
        if name in self.binary:
            values, index = self.spellings.get(name, BINARY_STATES), self.binary[name]
        else:
            values, index = self.named[name]
        if all(v in states for v in values):
            table = np.array([states.index(v) for v in values], dtype=np.uint8)
            return table[index]
        folded = [s.casefold() for s in states]
        if len(set(folded)) == len(folded) and all(v.casefold() in folded for v in values):
            table = np.array([folded.index(v.casefold()) for v in values], dtype=np.uint8)
            return table[index]
        if name in self.binary and values != BINARY_STATES:
            values = BINARY_STATES  # true/false as codes 0 and 1
        if all(is_integer_text(v) for v in values) and not set(values) & set(states):
            table = np.array([int(v) for v in values], dtype=np.int64)
            out = np.flatnonzero((table < 0) | (table >= len(states)))
            if not len(out):
                return table.astype(np.uint8)[index]
            row = int(np.flatnonzero(np.isin(index, out))[0])
            raise CkganError(
                f"{where}: line {self.lines[row]} has {values[index[row]]!r}, but the graph "
                f"declares {len(states)} states ({', '.join(states)}): an integer must be a "
                f"code 0-{len(states) - 1}"
            )
        unknown = [i for i, v in enumerate(values) if v not in states]
        row = int(np.flatnonzero(np.isin(index, unknown))[0])
        raise CkganError(
            f"{where}: line {self.lines[row]} has {values[index[row]]!r}, which is not a state "
            f"of '{name}' ({', '.join(states)}, as the graph declares)"
        )

    def matrix(
        self,
        nodes: Sequence[str],
        rows: np.ndarray | None = None,
        states: Mapping[str, Sequence[str]] | None = None,
    ) -> np.ndarray:
        """The ``(n, len(nodes))`` uint8 codes of ``rows`` (default all), in ``nodes`` order.

        ``states`` gives some columns' states (others: ``default_states``).
        """
        for node in nodes:
            self.check_column(node)
        n = len(self.lines) if rows is None else len(rows)
        out = np.empty((n, len(nodes)), dtype=np.uint8)
        for j, node in enumerate(nodes):
            if node in self.binary and (states is None or node not in states):
                codes = self.binary[node]
            else:
                codes = self.codes(node, (states or {}).get(node))
            out[:, j] = codes if rows is None else codes[rows]
        return out


def _quoted(name: str) -> str:
    """``'name'`` for messages; ``repr`` when the name holds a newline or other control."""
    return f"'{name}'" if name.isprintable() else repr(name)


def _encode(path: Path, columns: list[str], rows: Iterable[tuple[int, list[str]]]) -> LabelTable:
    """Encode ``rows`` (line number, cells) column by column; keep file names and splits raw.

    Cells are read as binary spellings while they are; a column's first other
    cell turns it into a named column (its earlier cells kept by spelling).
    """
    seen = set()
    for name in columns:
        if name and name in seen:
            raise CkganError(f"{path} names column {_quoted(name)} twice in its header; rename one")
        seen.add(name)
    get = _CODES.get
    k = len(columns)
    lowered = [c.lower() for c in columns]
    keep = {name: lowered.index(name) for name in _SPECIAL if name in lowered}
    kept: dict[str, list[str]] = {name: [] for name in keep}
    buf = bytearray()
    lines: list[int] = []
    raw: dict[int, list[str]] = {}  # named columns: each row's value
    ignored = {j for j, name in enumerate(columns) if not name or lowered[j] in _SPECIAL}
    for line, cells in rows:
        codes = [get(c, _BAD) for c in cells]
        if _BAD in codes:
            codes = [get(c.strip().lower(), _BAD) for c in cells]
            for j, code in enumerate(codes):
                if code == _BAD and j not in raw and j not in ignored:
                    raw[j] = [_SPELLING[buf[r * k + j]] for r in range(len(lines))]
        for j, values in raw.items():
            cell = cells[j].strip()
            low = cell.lower()
            values.append(low if low in _CODES else cell)
        buf.extend(codes)
        lines.append(line)
        for name, j in keep.items():
            kept[name].append(cells[j].strip())
    if not lines:
        raise CkganError(f"{path} has a header but no rows of labels; add one row per example")
    matrix = np.frombuffer(bytes(buf), dtype=np.uint8).reshape(len(lines), k)
    table = LabelTable(path, list(columns), lines=np.asarray(lines, dtype=np.int64))
    for j, name in enumerate(columns):
        if j in ignored:
            continue
        if j in raw:
            _add_named(table, name, raw[j])
            continue
        mixed = _mixed_coding(matrix[:, j], table.lines)
        if mixed is None:
            table.binary[name] = _VALUE[matrix[:, j]]
            if np.isin(matrix[:, j], (4, 5)).any():
                table.spellings[name] = ("false", "true")
        else:
            table.bad[name], table.mixed[name] = mixed
    table.filenames = kept.get("filename")
    table.split_values = kept.get("split")
    return table


def _add_named(table: LabelTable, name: str, values: list[str]) -> None:
    """A named column into ``table.named``, or into ``bad`` with its first unusable cell."""
    index: dict[str, int] = {}
    codes = np.empty(len(values), dtype=np.uint8)
    for row, value in enumerate(values):
        code = index.get(value)
        if code is None:
            problem = (
                "empty"
                if not value
                else "many"
                if len(index) >= MAX_STATES
                else "name"
                if not value.isprintable() or set(value) & set(',"')
                else None
            )
            if problem:
                table.bad[name] = (int(table.lines[row]), value)
                table.why[name] = problem
                return
            code = index[value] = len(index)
        codes[row] = code
    table.named[name] = (tuple(index), codes)


def _mixed_coding(codes: np.ndarray, lines: np.ndarray) -> tuple[tuple[int, str], str] | None:
    """None if the column keeps to one coding; else its first cell outside the first one's.

    The answer is ``((line, spelling), "line L has 'S'")``: the offending
    cell, then the first cell of the coding the column started with.
    """
    present = np.flatnonzero(np.bincount(codes, minlength=len(_SPELLING)))
    if any(set(present) <= set(allowed) for allowed in _CODINGS.values()):
        return None
    # The coding of the first cell that decides one (a leading "1" fits two).
    first = int(np.flatnonzero(codes != 1)[0])
    allowed = next(a for a in _CODINGS.values() if codes[first] in a)
    offender = int(np.flatnonzero(~np.isin(codes, allowed))[0])
    return (
        (int(lines[offender]), _SPELLING[codes[offender]]),
        f"line {lines[first]} has {_SPELLING[codes[first]]!r}",
    )


def _read_text(path: Path, what: str) -> str:
    if path.is_dir():
        raise CkganError(f"{path} is a folder, not a file ({what})")
    if not path.exists():
        raise CkganError(f"no such file: {path} ({what})")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        raise CkganError(f"cannot open {path}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise CkganError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start})") from None
    if not text.strip():
        raise CkganError(f"{path} is empty: expected {what}")
    return text


def _looks_like_data(cell: str) -> bool:
    cell = cell.strip().lower()
    if cell in BINARY:
        return True
    try:
        float(cell)
    except ValueError:
        return False
    return True


def read_label_csv(path: str | Path) -> LabelTable:
    """Parse a CSV whose header names the columns (``,`` ``;`` or tab separated)."""
    path = Path(path)
    text = _read_text(path, "a CSV of labels whose first line names the columns")
    first = next(line for line in _LINE_BREAK.split(text) if line.strip())
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def records() -> Iterable[list[str]]:
        try:
            yield from reader
        except csv.Error as e:  # e.g. a field over csv's size limit
            raise CkganError(f"line {reader.line_num} of {path} is not valid CSV: {e}") from None

    parsed = records()
    header = next(
        ([c.strip() for c in cells] for cells in parsed if any(c.strip() for c in cells)), None
    )
    if header is None:
        raise CkganError(f"{path} holds no line naming the columns, only empty quoted cells")
    if all(_looks_like_data(c) for c in header):
        raise CkganError(
            f"{path} has no header: its first line ({first.strip()!r}) looks like data; "
            "add a first line naming the columns"
        )
    k = len(header)

    def rows() -> Iterable[tuple[int, list[str]]]:
        for cells in parsed:
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > k and not any(c.strip() for c in cells[k:]):
                cells = cells[:k]
            if len(cells) != k:
                raise CkganError(
                    f"line {reader.line_num} of {path} has {len(cells)} fields but the header "
                    f"names {k} columns; fix that line"
                )
            yield reader.line_num, cells

    return _encode(path, header, rows())


def is_attribute_file(path: str | Path) -> bool:
    """Whether ``path`` starts like ``list_attr_celeba.txt``: a line holding just a count."""
    try:
        with Path(path).open(encoding="utf-8-sig") as f:
            first = f.readline().strip()
    except (OSError, UnicodeDecodeError):
        return False
    return _COUNT.fullmatch(first) is not None


def read_attribute_file(path: str | Path) -> LabelTable:
    """Parse a CelebA-format file: a count line, a names line, ``filename v1 ... vk`` rows."""
    path = Path(path)
    text = _read_text(path, "a CelebA-format attribute file (count line, names line, rows)")
    lines = _LINE_BREAK.split(text)
    if len(lines) < 2 or not _COUNT.fullmatch(lines[0].strip()):
        raise CkganError(
            f"{path} is not a CelebA-format attribute file: its first line should be the "
            "number of rows and its second the attribute names"
        )
    columns = lines[1].split()
    k = len(columns)
    filenames: list[str] = []

    def rows() -> Iterable[tuple[int, list[str]]]:
        for number, line in enumerate(lines[2:], start=3):
            cells = line.split()
            if not cells:
                continue
            if len(cells) != k + 1:
                raise CkganError(
                    f"line {number} of {path} has {len(cells) - 1} values but line 2 names "
                    f"{k} attributes; fix that line"
                )
            filenames.append(cells[0])
            yield number, cells[1:]

    table = _encode(path, columns, rows())
    table.filenames = filenames
    return table


def read_partition_file(path: str | Path) -> dict[str, int]:
    """Parse ``list_eval_partition.txt``: ``filename 0|1|2`` (train, validation, test) per line."""
    path = Path(path)
    text = _read_text(path, "lines of 'filename 0|1|2' (train, validation, test)")
    out: dict[str, int] = {}
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        cells = line.split()
        if not cells:
            continue
        if len(cells) != 2 or cells[1] not in ("0", "1", "2"):
            raise CkganError(
                f"line {number} of {path} should be 'filename 0|1|2', not {line.strip()!r}"
            )
        out[cells[0]] = int(cells[1])
    return out


def split_ids_from_partition(
    table: LabelTable, partition: dict[str, int], where: Path
) -> np.ndarray:
    """The split id of each row of ``table`` by its file name; a row missing there is an error."""
    assert table.filenames is not None
    out = np.empty(len(table.filenames), dtype=np.int8)
    for i, name in enumerate(table.filenames):
        try:
            out[i] = partition[name]
        except KeyError:
            raise CkganError(
                f"{name} (line {table.lines[i]} of {table.path}) is not listed in {where}; "
                "use the partition file that came with the attribute file"
            ) from None
    return out


def seeded_split_ids(n: int, seed: int) -> np.ndarray:
    """A deterministic 80/10/10 train/validation/test assignment of ``n`` rows.

    Fewer than 10 rows all go to train (validation and test are then empty).
    """
    ids = np.zeros(n, dtype=np.int8)
    if n >= 10:
        order = np.random.default_rng(seed).permutation(n)
        tenth = n // 10
        ids[order[:tenth]] = 1
        ids[order[tenth : 2 * tenth]] = 2
    return ids


def check_size(dataset: Dataset, size: int | None) -> int:
    """``size`` (default the largest of ``dataset.image_sizes``) if the dataset offers it."""
    if size is None:
        return max(dataset.image_sizes)
    if size not in dataset.image_sizes:
        sizes = ", ".join(str(s) for s in dataset.image_sizes)
        raise CkganError(f"dataset '{dataset.name}' has no image size {size} (sizes: {sizes})")
    return int(size)


class UserData(Dataset):
    """A user's label file (and images it names), split into train / validation / test.

    Splits come from a ``split`` column (or ``list_eval_partition.txt`` beside a
    CelebA-format file), else from a deterministic 80/10/10 shuffle drawn from
    ``seed``; files of fewer than 10 rows put every row in train.
    """

    truth = None
    image_sizes = (32, 64)

    def __init__(
        self,
        table: LabelTable,
        name: str,
        split_ids: np.ndarray,
        image_root: Path | None = None,
    ) -> None:
        self.table = table
        self.name = name
        self.attributes = table.attributes
        self.split_ids = split_ids
        self.image_root = image_root
        self.has_images = image_root is not None and table.filenames is not None
        self._decoded: dict[tuple[str, int], np.ndarray] = {}
        #: states set by ``use_states`` (a graph's declared order), by column
        self._states: dict[str, tuple[str, ...]] = {}

    @property
    def cache_key(self) -> str:
        """The label file (and image folder) as they are now: a changed file gets a new judge.

        States declared in another order than the data's own (``use_states``)
        change what the columns mean, and so the key.
        """
        import hashlib
        import json

        from .storage import fingerprint

        folders = [self.image_root] if self.image_root is not None else []
        key = f"user-{self.table.path.stem}-{fingerprint(self.table.path, *folders)}"
        changed = {
            name: list(states)
            for name, states in sorted(self._states.items())
            if states != self._data_states(name)
        }
        if changed:
            digest = hashlib.sha256(json.dumps(changed).encode()).hexdigest()[:10]
            key += f"-states-{digest}"
        return key

    def check_nodes(self, nodes: Sequence[str]) -> None:
        """A node missing from the file, or unusable as a label there, is an error naming it."""
        for node in nodes:
            self.table.check_column(node)

    def _data_states(self, name: str) -> tuple[str, ...] | None:
        try:
            return self.table.default_states(name)
        except CkganError:
            return None

    def node_states(self, nodes: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Each node's states: as ``use_states`` set them, else the data's own order.

        Binary columns are ``("0", "1")``; named ones follow ``default_order``
        (integers in numeric order, other names sorted as text).
        """
        self.check_nodes(nodes)
        return {n: self._states.get(n) or self.table.default_states(n) for n in nodes}

    def use_states(self, states: Mapping[str, Sequence[str]]) -> None:
        """Read these columns with these states from now on (e.g. a BIF graph's order).

        Every cell is checked: a value that is not one of the states (nor, in
        a column of integers, a code ``0 .. k-1``) is an error naming the
        column, line and value.
        """
        for name, names in states.items():
            names = tuple(names)
            self.table.codes(name, names)
            self._states[name] = names

    @property
    def columns(self) -> tuple[str, ...]:
        """The model-vector columns of every usable label column (``ckgan.states.Encoding``)."""
        from .states import Encoding

        usable = [a for a in self.attributes if self._states.get(a) or self._data_states(a)]
        states = self.node_states(usable)
        return Encoding(usable, [states[a] for a in usable]).columns

    def _vectors(self, names: Sequence[str], rows: np.ndarray) -> np.ndarray:
        """Model-vector columns of ``rows``: a node (its 0/1 column or one-hot block), or
        ``NODE=STATE`` (the indicator of that state)."""
        blocks = []
        for name in names:
            node, sep, state = name.partition("=")
            if sep and node in self.attributes and name not in self.table.columns:
                states = self.node_states([node])[node]
                if state not in states:
                    raise CkganError(
                        f"'{state}' is not a state of column {_quoted(node)} of "
                        f"{self.table.path} ({', '.join(states)})"
                    )
                codes = self.labels_of([node], rows)[:, 0]
                blocks.append((codes == states.index(state))[:, None])
                continue
            states = self.node_states([name])[name]
            codes = self.labels_of([name], rows)
            blocks.append(codes if len(states) == 2 else codes == np.arange(len(states)))
        if not blocks:
            return np.zeros((len(rows), 0), dtype="float32")
        return np.concatenate(blocks, axis=1).astype("float32")

    def label_vectors(self, split: str, columns: Sequence[str]) -> np.ndarray:
        """Model vectors of ``split`` over ``columns`` (nodes or ``NODE=STATE``)."""
        return self._vectors(columns, self._rows(split))

    def labels_of(self, nodes: Sequence[str], rows: np.ndarray) -> np.ndarray:
        """The codes of ``rows`` (indices into the file's rows) for ``nodes``."""
        return self.table.matrix(nodes, rows, {n: s for n, s in self._states.items() if n in nodes})

    def _rows(self, split: str) -> np.ndarray:
        check_split(split)
        return np.flatnonzero(self.split_ids == SPLITS.index(split))

    def labels(self, split: str = "train", nodes: Sequence[str] | None = None) -> np.ndarray:
        """The labels of ``split`` as ``(n, len(nodes))`` uint8, in ``nodes`` order."""
        nodes = list(self.attributes if nodes is None else nodes)
        return self.labels_of(nodes, self._rows(split))

    def images(self, split: str = "train", size: int | None = None) -> np.ndarray:
        """The split's images, uint8 ``(n, size, size, 3)``: centre-cropped square, area-resized.

        Decoded with Pillow once per split and size and kept in memory. Every
        image of the split is checked to exist first, so a missing one is a
        clear error rather than a failure half-way through an epoch.
        """
        if not self.has_images:
            raise CkganError(f"dataset '{self.name}' has no images")
        size = check_size(self, size)
        key = (split, size)
        if key not in self._decoded:
            self._decoded[key] = self._decode(self._rows(split), size)
        return self._decoded[key]

    def _decode(self, rows: np.ndarray, size: int) -> np.ndarray:
        assert self.table.filenames is not None and self.image_root is not None
        paths = []
        for i in rows:
            path = self.image_root / self.table.filenames[i]
            if not path.is_file():
                raise CkganError(
                    f"image '{self.table.filenames[i]}' named on line {self.table.lines[i]} of "
                    f"{self.table.path} is missing (looked for {path}); add it or remove the row"
                )
            paths.append(path)
        out = np.empty((len(paths), size, size, 3), np.uint8)
        for j, path in enumerate(paths):
            out[j] = load_image(path, size)
        return out


def load_image(path: Path, size: int) -> np.ndarray:
    """One image file as uint8 ``(size, size, 3)``: centre-cropped square, area-resized.

    Any format Pillow reads; a file it cannot read is an error naming it.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            width, height = image.size
            side = min(width, height)
            left, top = (width - side) // 2, (height - side) // 2
            image = image.crop((left, top, left + side, top + side))
            return np.asarray(image.resize((size, size), Image.Resampling.BOX), np.uint8)
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise CkganError(
            f"image '{path}' cannot be read ({e}): replace it or remove its row"
        ) from None


_OPTIONS = ("seed", "image_dir")


def open_user_data(path: str | Path, **options: Any) -> Dataset:
    """A ``Dataset`` from a user's CSV of labels, CelebA-format attribute file, or folder.

    A folder holds one CSV (or ``list_attr_celeba.txt``) and the images it
    names in a ``filename`` column, relative to the folder (or to
    ``image_dir=``). Options: ``seed`` (default 0) for the 80/10/10 split when
    the file has none, ``image_dir``.
    """
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise CkganError(
            f"unknown option '{unknown[0]}' for user data {path} (known: {', '.join(_OPTIONS)})"
        )
    seed = options.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise CkganError(f"seed must be an integer, not {seed!r}")
    path = Path(path).expanduser()
    name = path.name if path.is_dir() else path.stem
    if path.is_dir():
        file = _file_in_folder(path)
    elif path.exists() or path.suffix.lower() == ".csv":
        file = path
    else:
        raise CkganError(f"no such file or folder: {path}")

    if file.suffix.lower() != ".csv" and is_attribute_file(file):
        table = read_attribute_file(file)
        partition = file.parent / PARTITION_FILE
        if partition.is_file():
            split_ids = split_ids_from_partition(table, read_partition_file(partition), partition)
        else:
            split_ids = seeded_split_ids(len(table.lines), seed)
        default_root = file.parent / "img_align_celeba"
        if not default_root.is_dir():
            default_root = file.parent
    else:
        table = read_label_csv(file)
        split_ids = _split_column(table) if table.split_values is not None else None
        if split_ids is None:
            split_ids = seeded_split_ids(len(table.lines), seed)
        default_root = file.parent
    image_dir = options.get("image_dir")
    image_root = None
    if table.filenames is not None:
        image_root = Path(image_dir).expanduser() if image_dir is not None else default_root
        if not image_root.is_dir():
            raise CkganError(f"image folder {image_root} does not exist; fix image_dir=")
    return UserData(table, name, split_ids, image_root)


def _file_in_folder(folder: Path) -> Path:
    """The one label file in ``folder``: ``list_attr_celeba.txt`` or its only CSV."""
    if (folder / ATTRIBUTE_FILE).is_file():
        return folder / ATTRIBUTE_FILE
    csvs = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
    if len(csvs) == 1:
        return csvs[0]
    if not csvs:
        raise CkganError(
            f"folder {folder} holds no CSV of labels nor {ATTRIBUTE_FILE}; add one "
            "(a header naming the columns, a 'filename' column for images)"
        )
    names = ", ".join(p.name for p in csvs)
    raise CkganError(f"folder {folder} holds several CSV files ({names}); pass the one to use")


def _split_column(table: LabelTable) -> np.ndarray:
    """Split ids from a ``split`` column of train / validation / test."""
    assert table.split_values is not None
    out = np.empty(len(table.split_values), dtype=np.int8)
    for i, value in enumerate(table.split_values):
        try:
            out[i] = _SPLIT_IDS[value.lower()]
        except KeyError:
            raise CkganError(
                f"line {table.lines[i]} of {table.path} has split {value!r}; "
                "use train, validation or test"
            ) from None
    return out
