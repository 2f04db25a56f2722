"""CSV files that a spreadsheet opens as text, never as formulas (OWASP's CSV injection rule).

A cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
by Excel, LibreOffice and Google Sheets as a formula: a network or city named
``=HYPERLINK("http://evil","x")`` would become a link in the user's sheet. Every
CSV the program writes goes through here, and such a *text* cell gets a leading
``'`` (shown by spreadsheets as the text itself). Only text is changed: numbers
stay numbers, so ``-3`` in a numeric column is written ``-3`` (a spreadsheet reads a
negative number there, as it should); headers and a written index are text too.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP)."""
ESCAPE = "'"


def neutral(value: Any) -> Any:
    """A text cell made inert (a leading ``'``); anything that is not text unchanged.

    Examples
    --------
    >>> neutral('=HYPERLINK("http://evil","x")')
    '\\'=HYPERLINK("http://evil","x")'
    >>> neutral(-3), neutral("Ghent")
    (-3, 'Ghent')
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return ESCAPE + value
    return value


def _is_text(series: pd.Series | pd.Index) -> bool:
    dtype = series.dtype
    return (
        pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )


def neutral_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells, headers and index labels are inert."""
    out = frame.copy()
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if _is_text(column):
            out.isetitem(position, column.astype(object).map(neutral))
    out.columns = out.columns.map(neutral)
    if _is_text(out.index):
        out.index = out.index.map(neutral)
    out.index.names = [neutral(n) for n in out.index.names]
    return out


def write_csv(frame: pd.DataFrame, path: str | Path | IO[str], **options: Any) -> None:
    """``frame.to_csv(path, **options)`` with every text cell made inert first (a path or an
    open text buffer, e.g. the dashboard's downloads)."""
    neutral_frame(frame).to_csv(path, **options)


def neutral_batch(batch: Any) -> Any:
    """A pyarrow RecordBatch with its text columns and names made inert (streamed CSVs)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in batch.columns:
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = pc.replace_substring_regex(
                column, pattern=r"^([=+\-@\t\r])", replacement=ESCAPE + r"\1"
            )
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, names=[neutral(n) for n in batch.schema.names])


def neutral_schema(schema: Any) -> Any:
    """The schema :func:`neutral_batch` gives its batches (for a streaming CSV writer)."""
    import pyarrow as pa

    fields = []
    for field in schema:
        kind = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        fields.append(pa.field(neutral(field.name), kind, field.nullable))
    return pa.schema(fields)
