"""driftcheck's own filters and tests, as ansible-core's do them: what jinjafilters.py gives
templates where ansible-core is not installed (and `mandatory`, in both cases). Each follows
the ansible-core function of the same name (ansible/plugins/filter/core.py, mathstuff.py,
plugins/test/core.py), checked against Ansible by tests/inventory/test_rendering.py.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
import ntpath
import os.path
import re
import shlex
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

import jinja2
import yaml

from driftcheck.model import Vaulted

Plugin = Callable[..., Any]


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def mandatory(value: Any, msg: str | None = None) -> Any:
    if isinstance(value, jinja2.Undefined):
        name = getattr(value, "_undefined_name", None)
        raise jinja2.UndefinedError(msg or f"Mandatory variable {name!r} not defined.")
    return value


def to_bool(value: object) -> bool:
    text = value.lower() if isinstance(value, str) else str(value).lower()
    if text in ("yes", "on", "true", "1"):
        return True
    if text in ("no", "off", "false", "0"):
        return False
    return value == 1


def ternary(value: object, true_val: Any, false_val: Any, none_val: Any = None) -> Any:
    if value is None and none_val is not None:
        return none_val
    return true_val if value else false_val


def _flags(ignorecase: bool = False, multiline: bool = False) -> int:
    return (re.I if ignorecase else 0) | (re.M if multiline else 0)


def regex_replace(
    value: object = "", pattern: str = "", replacement: str = "", *args: Any, **kwargs: Any
) -> str:
    """Ansible's signature: then ignorecase, multiline, count (positional or by name)."""
    names = dict(zip(("ignorecase", "multiline", "count"), args, strict=False)) | kwargs
    flags = _flags(bool(names.get("ignorecase")), bool(names.get("multiline")))
    return re.sub(pattern, replacement, _text(value), count=names.get("count", 0), flags=flags)


def regex_findall(
    value: object, regex: str, multiline: bool = False, ignorecase: bool = False
) -> Any:
    return re.findall(regex, _text(value), _flags(ignorecase, multiline))


def regex_search(value: object, regex: str, *groups: str, **flags: bool) -> Any:
    match = re.search(regex, _text(value), _flags(**flags))
    if not match:
        return None
    if not groups:
        return match.group()
    names = [g[3:-1] if g.startswith("\\g") else int(g[1:]) for g in groups]
    return [match.group(name) for name in names]


def to_json(value: Any, **kwargs: Any) -> str:
    return json.dumps(value, default=_json_default, **kwargs)


def to_nice_json(value: Any, indent: int = 4, sort_keys: bool = True, **kwargs: Any) -> str:
    kwargs.pop("separators", None)
    return to_json(value, indent=indent, sort_keys=sort_keys, separators=(",", ": "), **kwargs)


def _json_default(value: object) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Vaulted):
        return str(value)  # raises: a vaulted value without its secret
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class _Dumper(yaml.SafeDumper):
    """Strings of driftcheck's kinds (Unsafe, Secret) are strings."""


_Dumper.add_multi_representer(str, yaml.SafeDumper.represent_str)


def to_yaml(value: Any, *_args: Any, default_flow_style: bool | None = None, **kwargs: Any) -> str:
    return str(
        yaml.dump(value, Dumper=_Dumper, allow_unicode=True, default_flow_style=default_flow_style,
                  **kwargs)
    )  # fmt: skip


def to_nice_yaml(value: Any, indent: int = 4, *_args: Any, **kwargs: Any) -> str:
    kwargs.setdefault("default_flow_style", False)
    return to_yaml(value, indent=indent, **kwargs)


def from_yaml(text: Any) -> Any:
    return yaml.safe_load(text) if isinstance(text, str) else text


def flatten(items: Iterable[Any], levels: int | None = None, skip_nulls: bool = True) -> list[Any]:
    found: list[Any] = []
    for item in items:
        if skip_nulls and item in (None, "None", "null"):
            continue
        if isinstance(item, (list, tuple)) and (levels is None or levels >= 1):
            found.extend(flatten(item, None if levels is None else levels - 1, skip_nulls))
        else:
            found.append(item)
    return found


def combine(*terms: Any, recursive: bool = False, list_merge: str = "replace") -> Any:
    dicts = flatten(terms, levels=1)
    if not dicts:
        return {}
    result = dict(dicts[0])
    for other in dicts[1:]:
        result = _merge(result, other, recursive, list_merge)
    return result


def _merge(low: Mapping[str, Any], high: Mapping[str, Any], recursive: bool, lists: str) -> Any:
    merged = dict(low)
    for key, value in high.items():
        old = merged.get(key)
        if recursive and isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = _merge(old, value, recursive, lists)
        elif isinstance(old, list) and isinstance(value, list) and lists != "replace":
            merged[key] = _merge_lists(old, value, lists)
        else:
            merged[key] = value
    return merged


def _merge_lists(old: list[Any], new: list[Any], how: str) -> list[Any]:
    if how == "keep":
        return old
    if how == "append":
        return old + new
    if how == "prepend":
        return new + old
    if how == "append_rp":
        return [x for x in old if x not in new] + new
    return new + [x for x in old if x not in new]  # prepend_rp


@jinja2.pass_environment
def extract(env: jinja2.Environment, item: Any, container: Any, morekeys: Any = None) -> Any:
    keys = [
        item,
        *(morekeys if isinstance(morekeys, list) else [morekeys] * (morekeys is not None)),
    ]
    value = container
    for key in keys:
        value = env.getitem(value, key)
    return value


def dict2items(value: Mapping[str, Any], key_name: str = "key", value_name: str = "value") -> Any:
    if not isinstance(value, Mapping):
        raise TypeError(f"dict2items requires a dictionary, got {type(value).__name__} instead.")
    return [{key_name: key, value_name: item} for key, item in value.items()]


def items2dict(items: Iterable[Any], key_name: str = "key", value_name: str = "value") -> Any:
    return {item[key_name]: item[value_name] for item in items}


def unique(items: Iterable[Any], *_args: Any, **_kwargs: Any) -> list[Any]:
    found: list[Any] = []
    for item in items:
        if item not in found:
            found.append(item)
    return found


def get_hash(data: object, hashtype: str = "sha1") -> str:
    return hashlib.new(hashtype, _text(data).encode()).hexdigest()


def b64decode(text: str, encoding: str = "utf-8", urlsafe: bool = False) -> str:
    decode = base64.urlsafe_b64decode if urlsafe else base64.b64decode
    return decode(_text(text).encode()).decode(encoding)


def b64encode(text: object, encoding: str = "utf-8", urlsafe: bool = False) -> str:
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    return encode(_text(text).encode(encoding)).decode()


def path_join(paths: Any) -> str:
    return os.path.join(paths) if isinstance(paths, str) else os.path.join(*paths)


def split(text: object, sep: str | None = None, maxsplit: int = -1) -> list[str]:
    return _text(text).split(sep, maxsplit)


def _on_text(func: Callable[[str], Any]) -> Plugin:
    return lambda value: func(_text(value))


NATIVE_FILTERS: dict[str, Plugin] = {
    "b64decode": b64decode,
    "b64encode": b64encode,
    "basename": _on_text(os.path.basename),
    "bool": to_bool,
    "checksum": lambda data: get_hash(data, "sha1"),
    "combine": combine,
    "dict2items": dict2items,
    "difference": lambda a, b: unique(x for x in a if x not in b),
    "dirname": _on_text(os.path.dirname),
    "extract": extract,
    "flatten": flatten,
    "from_json": json.loads,
    "from_yaml": from_yaml,
    "from_yaml_all": lambda text: list(yaml.safe_load_all(text)) if text is not None else [],
    "hash": get_hash,
    "intersect": lambda a, b: unique(x for x in a if x in b),
    "items2dict": items2dict,
    "log": lambda x, base=math.e: math.log10(x) if base == 10 else math.log(x, base),
    "md5": lambda data: get_hash(data, "md5"),
    "normpath": _on_text(os.path.normpath),
    "path_join": path_join,
    "pow": math.pow,
    "quote": lambda value: shlex.quote("" if value is None else _text(value)),
    "regex_escape": lambda text: re.escape(_text(text)),
    "regex_findall": regex_findall,
    "regex_replace": regex_replace,
    "regex_search": regex_search,
    "root": lambda x, base=2: math.sqrt(x) if base == 2 else math.pow(x, 1.0 / float(base)),
    "sha1": lambda data: get_hash(data, "sha1"),
    "split": split,
    "splitext": _on_text(os.path.splitext),
    "symmetric_difference": lambda a, b: unique(
        [x for x in a if x not in b] + [x for x in b if x not in a]
    ),
    "ternary": ternary,
    "to_json": to_json,
    "to_nice_json": to_nice_json,
    "to_nice_yaml": to_nice_yaml,
    "to_uuid": lambda text, namespace="361E6D51-FAEC-444A-9079-341386DA8E2E": str(
        uuid.uuid5(uuid.UUID(namespace), _text(text))
    ),
    "to_yaml": to_yaml,
    "type_debug": lambda value: type(value).__name__,
    "union": lambda a, b: unique(list(a) + list(b)),
    "unique": unique,
    "win_basename": _on_text(ntpath.basename),
    "win_dirname": _on_text(ntpath.dirname),
    "zip": lambda *lists: [list(t) for t in zip(*lists, strict=False)],
    "zip_longest": lambda *lists, fillvalue=None: [
        list(t) for t in itertools.zip_longest(*lists, fillvalue=fillvalue)
    ],
}


def _version_key(text: object) -> list[tuple[int, int | str]]:
    """Loose version order (as distutils' LooseVersion): numbers before words."""
    parts = re.findall(r"\d+|[a-z]+", _text(text).lower())
    return [(0, int(p)) if p.isdigit() else (1, p) for p in parts]


_VERSION_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "lt": lambda a, b: a < b, "<": lambda a, b: a < b, "le": lambda a, b: a <= b,
    "<=": lambda a, b: a <= b, "gt": lambda a, b: a > b, ">": lambda a, b: a > b,
    "ge": lambda a, b: a >= b, ">=": lambda a, b: a >= b, "eq": lambda a, b: a == b,
    "==": lambda a, b: a == b, "=": lambda a, b: a == b, "ne": lambda a, b: a != b,
    "!=": lambda a, b: a != b, "<>": lambda a, b: a != b,
}  # fmt: skip


def version_compare(value: object, version: object, operator: str = "eq", **_kw: Any) -> bool:
    return _VERSION_OPS[operator](_version_key(value), _version_key(version))


NATIVE_TESTS: dict[str, Plugin] = {
    "all": all,
    "any": any,
    "contains": lambda seq, value: value in seq,
    "falsy": lambda value, convert_bool=False: not (to_bool(value) if convert_bool else value),
    "issubset": lambda a, b: set(a) <= set(b),
    "issuperset": lambda a, b: set(a) >= set(b),
    "match": lambda value, pattern, ignorecase=False, multiline=False: bool(
        re.match(pattern, _text(value), _flags(ignorecase, multiline))
    ),
    "regex": lambda value, pattern, ignorecase=False, multiline=False, match_type="search": bool(
        getattr(re, match_type)(pattern, _text(value), _flags(ignorecase, multiline))
    ),
    "search": lambda value, pattern, ignorecase=False, multiline=False: bool(
        re.search(pattern, _text(value), _flags(ignorecase, multiline))
    ),
    "subset": lambda a, b: set(a) <= set(b),
    "superset": lambda a, b: set(a) >= set(b),
    "truthy": lambda value, convert_bool=False: bool(to_bool(value) if convert_bool else value),
    "version": version_compare,
    "version_compare": version_compare,
}
