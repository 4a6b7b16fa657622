"""Reading a CSV file of numeric features and one target column.

A well-formed file is parsed by NumPy's C reader (np.loadtxt, about 4x faster than the
careful reader on a 20000 x 785 file). When that fails, the careful reader runs: the file
is read row by row (Python's csv module: quoted cells work) and converted by blocks of
rows, so only the result is held whole in memory, and its errors name the file, the line
and the column (both counted from 1, as an editor shows them).

A CSV file declares no sizes, but its numbers take more memory than its text: "0," is 2
bytes of file and 8 of float64, and the readers hold copies and intermediates. Before a
file is parsed, CSV_EXPANSION times its size is checked against the memory budget
(pynn.memory.check_allocation: MemoryError naming the file).
"""

import csv
import itertools
import numbers
import os
import warnings

import numpy as np

from pynn.core.files import open_regular
from pynn.core.memory import check_allocation, check_max_bytes

CHUNK_ROWS = 4096
# The most memory, in bytes per byte of file, that parsing a CSV file takes at its peak
# (measured with tracemalloc on files of 1-, 2- and 3-character cells, 1 to 785 columns,
# float64 and float32): np.loadtxt's C reader up to 13.3 (the table, its feature columns
# taken out, the target column as text); the careful reader up to 28.1, for 2-character
# cells ("10,"), whose Python str objects (about 50 bytes each) it holds for a block of
# CHUNK_ROWS rows. Rounded up, so a file that can parse is not refused. Cells of very
# different lengths can take more (NumPy's text arrays are as wide as their longest cell).
CSV_EXPANSION = 32


def load_csv(
    path,
    target=-1,
    *,
    delimiter=",",
    header="auto",
    dtype=np.float64,
    target_dtype=None,
    max_bytes=None,
):
    """Features X and target y from the CSV file `path` (UTF-8 text).

    Blank lines are skipped; every other row must have as many cells as the first.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file (a regular file).
    target : int or str, default -1
        The target column, as an index (Python style: 0 is the first column, -1 the
        last) or a name from the header row.
    delimiter : str, default ","
        The one-character cell separator.
    header : True, False or "auto", default "auto"
        True: the first row names the columns; False: there is no header row; "auto":
        the first row is a header when one of its cells is not a number where the next
        row's cell is (with a one-row file: when none of its cells is a number). A named
        target needs the header.
    dtype : float dtype, default numpy.float64
        The dtype of X. Every feature cell must be a number (as Python's float() reads
        it, so "nan" and "inf" are numbers).
    target_dtype : None, str, or an int or float dtype
        None infers y: int64 when every target cell is an integer, `dtype` when every
        cell is a number, str labels (surrounding spaces stripped) when none is; a mix
        raises. Give str, an int or a float dtype to force one.
    max_bytes : int or None
        The memory budget in bytes; None: what this process can allocate now
        (pynn.memory.available_bytes). A file of more than max_bytes / CSV_EXPANSION
        bytes (32: the most parsing takes per byte of file) raises MemoryError unparsed.

    Returns
    -------
    X : numpy.ndarray of shape (n_rows, n_columns - 1)
        The feature columns, of `dtype`.
    y : numpy.ndarray of shape (n_rows,)
        The target column.

    Raises
    ------
    TypeError
        An argument of the wrong kind.
    ValueError
        A malformed file (empty, one column, rows of other lengths, a cell that is not a
        number), naming the file, line and column; or a target not in the file.
    MemoryError
        The file may take more than max_bytes to parse.
    """
    path = _check_args(path, target, delimiter, header, dtype, target_dtype)
    dtype = np.dtype(dtype)
    max_bytes = check_max_bytes(max_bytes)
    with open_regular(path, "r", newline="", encoding="utf-8-sig") as file:
        check_parse_memory(path, os.fstat(file.fileno()).st_size, max_bytes)
        rows = _rows(csv.reader(file, delimiter=delimiter, strict=True), path)
        first = next(rows, None)
        if first is None:
            raise ValueError(f"CSV file {path!r} is empty")
        second = next(rows, None)
        header, names, column, features = _layout(first, second, target, header, path)
        n_columns = len(first[1])
        fast = _read_fast(
            path,
            delimiter,
            first[0] if header else 0,
            n_columns,
            column,
            features,
            dtype,
            target_dtype,
            max_bytes,
        )
        if fast is not None:
            return fast
        data_rows = itertools.chain(
            [] if header else [first], [] if second is None else [second], rows
        )
        X_blocks, target_blocks, lines = _read_blocks(
            data_rows, n_columns, first[0], column, features, dtype, names, path, max_bytes
        )
    if not lines:
        raise ValueError(f"CSV file {path!r} has a header row but no data rows")
    check_text_memory(
        path,
        len(lines),
        max(block.itemsize for block in target_blocks) // 4,
        "target column",
        max_bytes,
    )
    y = _target_values(
        np.concatenate(target_blocks), target_dtype, dtype, lines, column, names, path
    )
    return np.concatenate(X_blocks), y


def _layout(first, second, target, header, path):
    """(whether the first row is a header, the column names or None, the target's column,
    the feature columns) from the first two rows, (line, cells) each (second may be None)."""
    if header == "auto":
        header = isinstance(target, str) or _looks_like_header(first[1], second)
    elif isinstance(target, str) and not header:
        raise ValueError(
            f"target={target!r} is a column name, but header=False: the file has no names"
        )
    names = [cell.strip() for cell in first[1]] if header else None
    n_columns = len(first[1])
    if n_columns < 2:
        raise ValueError(
            f"CSV file {path!r} has {n_columns} column on line "
            f"{first[0]}: it needs at least one feature and the target"
        )
    column = _target_index(target, names, n_columns, path)
    return header, names, column, [j for j in range(n_columns) if j != column]


def _read_blocks(
    data_rows, n_columns, first_line, column, features, dtype, names, path, max_bytes
):
    """The careful reader: (X blocks, target-cell blocks, line numbers), CHUNK_ROWS rows
    of (line, cells) at a time."""
    X_blocks, target_blocks, lines = [], [], []
    while block := list(itertools.islice(data_rows, CHUNK_ROWS)):
        cells = _cell_array(block, n_columns, first_line, path, max_bytes)
        X_blocks.append(_to_numbers(cells[:, features], dtype, block, features, names, path))
        target_blocks.append(cells[:, column])
        lines.extend(line for line, _ in block)
    return X_blocks, target_blocks, lines


def check_parse_memory(path, file_size, max_bytes=None):
    """Refuse, before parsing, a CSV file whose parse may take more than the budget.

    Parameters
    ----------
    path : str
        The file, named in the error.
    file_size : int
        Its size in bytes; parsing takes up to CSV_EXPANSION times that.
    max_bytes : int or None
        The budget in bytes; None: what this process can allocate now.

    Raises
    ------
    MemoryError
        When the parse may need more than the budget.
    """
    check_allocation(
        file_size * CSV_EXPANSION,
        f"CSV file {path!r} ({file_size} bytes; parsing takes up to {CSV_EXPANSION} times that)",
        max_bytes,
    )


def check_text_memory(path, cells, longest, what, max_bytes):
    """Refuse a NumPy text array of CSV cells that would need more than the budget.

    NumPy's text arrays are as wide as their longest cell (4 bytes a character): one long
    cell widens them all, so a small file can ask for a huge array.

    Parameters
    ----------
    path : str
        The file, named in the error.
    cells : int
        The number of cells the array would hold.
    longest : int
        The characters of the longest of them.
    what : str
        Which cells they are ("target column", "lines 1 to 4096"), for the message.
    max_bytes : int or None
        The budget in bytes; None: what this process can allocate now.

    Raises
    ------
    MemoryError
        When the array would need more than the budget.
    """
    check_allocation(
        cells * 4 * max(longest, 1),
        f"CSV file {path!r}: {what} as text, "
        f"{cells} cells as wide as the longest, {longest} characters",
        max_bytes,
    )


def _read_fast(
    path, delimiter, skip_lines, n_columns, column, features, dtype, target_dtype, max_bytes
):
    """(X, y) by np.loadtxt's C parser, or None when the file is not all well-formed
    numbers and rows of n_columns cells (the careful reader then finds and names the
    problem) or the target needs the careful reader's checks."""
    options = dict(
        delimiter=delimiter,
        comments=None,
        quotechar='"',
        skiprows=skip_lines,
        encoding="utf-8-sig",
        ndmin=2,
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an empty file warns: the careful reader says why
            table = np.loadtxt(path, dtype=dtype, **options)
            # as Python str first: the text array's width is checked before it is made
            cells = np.loadtxt(path, dtype=object, usecols=[column], **options)[:, 0]
    except (ValueError, UserWarning):
        return None
    check_text_memory(
        path, len(cells), max(map(len, cells), default=0), "target column", max_bytes
    )
    cells = cells.astype(str)
    if table.shape[1] != n_columns or table.shape[0] != cells.shape[0] or not len(table):
        return None
    try:
        y = _target_values(cells, target_dtype, dtype, _UnknownLines(), column, None, path)
    except ValueError:
        return None
    return table[:, features].astype(dtype), y


class _UnknownLines:
    """The line numbers the fast reader does not keep: a target error, which names its line,
    sends the file to the careful reader instead."""

    def __getitem__(self, index):
        raise ValueError("the line number is needed")


def _rows(reader, path):
    """(line number, cells) of each row that is not blank."""
    try:
        for cells in reader:
            if len(cells) <= 1 and not "".join(cells).strip():
                continue
            yield reader.line_num, cells
    except csv.Error as error:
        raise ValueError(f"CSV file {path!r}, line {reader.line_num}: {error}") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"CSV file {path!r} is not UTF-8 text ({error})") from None


def is_number(cell):
    """Whether a CSV cell is a number.

    Parameters
    ----------
    cell : str
        The cell's text.

    Returns
    -------
    bool
        True when float() reads it (so "nan" and "inf" are numbers).
    """
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _looks_like_header(first_cells, second):
    if second is None:
        return not any(is_number(cell) for cell in first_cells)
    return any(
        not is_number(cell) and is_number(below) for cell, below in zip(first_cells, second[1])
    )


def _target_index(target, names, n_columns, path):
    if isinstance(target, str):
        matches = [j for j, name in enumerate(names) if name == target]
        if len(matches) != 1:
            problem = "no column" if not matches else f"{len(matches)} columns"
            raise ValueError(
                f"target={target!r}: CSV file {path!r} has {problem} of that "
                f"name (its columns: {', '.join(map(repr, names))})"
            )
        return matches[0]
    if not -n_columns <= target < n_columns:
        raise ValueError(
            f"target={target} is out of range: CSV file {path!r} has {n_columns} columns"
        )
    return target % n_columns


def _cell_array(block, n_columns, first_line, path, max_bytes):
    longest = 0
    for line, cells in block:
        if len(cells) != n_columns:
            raise ValueError(
                f"CSV file {path!r}, line {line}: {len(cells)} cells, but line "
                f"{first_line} has {n_columns}"
            )
        longest = max(longest, max(map(len, cells)))
    check_text_memory(
        path, len(block) * n_columns, longest, f"lines {block[0][0]} to {block[-1][0]}", max_bytes
    )
    return np.array([cells for _, cells in block], dtype=str)


def _where(path, line, column, names):
    name = f" ({names[column]!r})" if names else ""
    return f"CSV file {path!r}, line {line}, column {column + 1}{name}"


def _to_numbers(cells, dtype, block, columns, names, path):
    """cells (rows, len(columns)) as `dtype`, or a ValueError naming the first bad cell."""
    try:
        return cells.astype(dtype)
    except (ValueError, OverflowError) as error:
        r, c = _first_bad_cell(cells, dtype, error)
        raise ValueError(
            f"{_where(path, block[r][0], columns[c], names)}: {str(cells[r, c])!r} is not a number"
        ) from None


def _first_bad_cell(cells, dtype, error):
    """(row, column) of the first cell of the 2-D `cells` that `dtype` cannot read, found
    with the same conversion that failed (row by row, then cell by cell)."""
    for r, row in enumerate(cells):
        try:
            row.astype(dtype)
            continue
        except (ValueError, OverflowError):
            pass
        for c, cell in enumerate(row):
            try:
                cell.astype(dtype)
            except (ValueError, OverflowError):
                return r, c
    raise error  # not reached: the block's conversion failed, so one of its cells does


def _target_values(cells, target_dtype, dtype, lines, column, names, path):
    if target_dtype is None:
        numeric = np.array([is_number(cell) for cell in cells])
        if numeric.all():
            try:
                return cells.astype(np.int64)
            except (ValueError, OverflowError):  # "2.5", "1e3", or beyond int64
                return cells.astype(dtype)
        if numeric.any():
            i = int(np.argmin(numeric))
            problem = (
                "the target is empty"
                if not cells[i].strip()
                else f"target {str(cells[i])!r} is not a number"
            )
            raise ValueError(
                f"{_where(path, lines[i], column, names)}: {problem}, but other "
                f"targets are numbers: pass target_dtype=str for labels"
            )
        target_dtype = str
    target_dtype = np.dtype(target_dtype)
    if target_dtype.kind == "U":
        labels = np.strings.strip(cells)
        empty = labels == ""
        if empty.any():
            i = int(np.argmax(empty))
            raise ValueError(f"{_where(path, lines[i], column, names)}: the target is empty")
        return labels
    try:
        return cells.astype(target_dtype)
    except (ValueError, OverflowError) as error:
        i, _ = _first_bad_cell(cells[:, None], target_dtype, error)
        raise ValueError(
            f"{_where(path, lines[i], column, names)}: target {str(cells[i])!r} "
            f"is not a {target_dtype} number"
        ) from None


def _check_args(path, target, delimiter, header, dtype, target_dtype):
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}") from None
    if isinstance(target, bool) or not isinstance(target, (numbers.Integral, str)):
        raise TypeError(
            f"target must be a column index (int) or a column name (str), got {target!r}"
        )
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise TypeError(f"delimiter must be a one-character str, got {delimiter!r}")
    if not (header is True or header is False or header == "auto"):
        raise ValueError(f"header must be True, False or 'auto', got {header!r}")
    try:
        float_kind = np.dtype(dtype).kind == "f"
    except TypeError:
        float_kind = False
    if not float_kind:
        raise TypeError(f"dtype must be a float dtype (float32 or float64), got {dtype!r}")
    if target_dtype is not None:
        try:
            kind = np.dtype(target_dtype).kind
        except TypeError:
            kind = None
        if kind not in ("U", "i", "u", "f"):
            raise TypeError(
                f"target_dtype must be None, str, an int or a float dtype, got {target_dtype!r}"
            )
    return path
