"""Arrow arrays of nulls that cost no memory.

Half the columns of a typical block are empty (a status-only POST has no
errors, contacts or envelope).  :func:`pyarrow.nulls` allocates and zero-fills
a validity bitmap and offsets or values for each: on the benchmark archive that
was 3% of the loader's instructions and most of its page faults.  An all-null
array only needs zero bytes, so every such array here is a view of one shared,
read-only buffer of zeros.
"""

from __future__ import annotations

import pyarrow as pa

_zeros = pa.py_buffer(bytes(1 << 16))


def _zero_bytes(size: int) -> pa.Buffer:
    global _zeros
    if size > _zeros.size:
        _zeros = pa.py_buffer(bytes(max(size, 2 * _zeros.size)))
    return _zeros.slice(0, size)


def nulls(n: int, type_: pa.DataType) -> pa.Array:
    """An array of ``n`` nulls of ``type_`` over shared zero bytes (no allocation).

    Flat types only (numbers, booleans, text, dictionaries of those); any other
    type falls back to :func:`pyarrow.nulls`.

    Examples
    --------
    >>> a = nulls(3, pa.large_string())
    >>> a.to_pylist(), a.null_count, a.type
    ([None, None, None], 3, DataType(large_string))
    >>> nulls(2, pa.dictionary(pa.int32(), pa.large_string())).to_pylist()
    [None, None]
    """
    bits = _zero_bytes((n + 7) // 8)
    if pa.types.is_dictionary(type_):
        indices = nulls(n, type_.index_type)
        return pa.DictionaryArray.from_arrays(indices, pa.array([], type_.value_type))
    if pa.types.is_large_string(type_) or pa.types.is_large_binary(type_):
        return pa.Array.from_buffers(type_, n, [bits, _zero_bytes(8 * (n + 1)), _zero_bytes(0)], n)
    if pa.types.is_string(type_) or pa.types.is_binary(type_):
        return pa.Array.from_buffers(type_, n, [bits, _zero_bytes(4 * (n + 1)), _zero_bytes(0)], n)
    if pa.types.is_boolean(type_):
        return pa.Array.from_buffers(type_, n, [bits, bits], n)
    if pa.types.is_integer(type_) or pa.types.is_floating(type_) or pa.types.is_temporal(type_):
        return pa.Array.from_buffers(type_, n, [bits, _zero_bytes(n * type_.byte_width)], n)
    return pa.nulls(n, type_)
