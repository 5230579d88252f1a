"""The cache of parsed archives, so a second load of the same files is fast.

The implementation lives with the loader, in :mod:`groupkit.load.cache`; this
module is its public face.

Examples
--------
>>> import groupkit.cache
>>> len(groupkit.cache.parser_version())
16
"""

from groupkit.load.cache import (
    ENV_VAR,
    CacheStore,
    CacheWarning,
    clear_cache,
    default_directory,
    parser_version,
)

__all__ = [
    "ENV_VAR",
    "CacheStore",
    "CacheWarning",
    "clear_cache",
    "default_directory",
    "parser_version",
]
