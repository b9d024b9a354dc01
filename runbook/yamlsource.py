"""YAML that remembers where each value came from, so errors can name file, line and field.

``load_yaml(path)`` returns plain dicts/lists/scalars, except that every mapping is a
``SourceMap`` (a dict) that knows the line of each key. Duplicate keys are an error, not a
silent overwrite: a duplicated host name in an inventory must not vanish.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from runbook.errors import ConfigError


class YamlLimitError(ConfigError):
    """A document nests too deep or its aliases expand too far: refused before it is built."""


class SourceMap(dict):
    """A dict that knows its file, its own line and the line of each key."""

    file: str = "<input>"
    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)

    def error(self, message: str, key: str | None = None, field: str | None = None) -> ConfigError:
        line = self.line_of(key) if key is not None else self.line
        return ConfigError(message, file=self.file, line=line, field=field or key)


#: How deep YAML may nest. An inventory or playbook needs a handful of levels; thousands of
#: brackets would exhaust Python's recursion while the document is built.
MAX_DEPTH = 64
#: How many values a document may hold once its aliases are expanded: a 1.6 KB "billion
#: laughs" of nested aliases expands to billions, which printing or merging never finishes.
MAX_VALUES = 100_000


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, with a bound on nesting depth and on alias expansion."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[str] = []  # where the node being composed is: keys and [indexes]

    def compose_node(self, parent: Any, index: Any) -> Any:
        if isinstance(index, yaml.ScalarNode):
            self._path.append(f".{index.value}" if self._path else str(index.value))
        else:
            self._path.append(f"[{index}]" if isinstance(index, int) else "")
        try:
            if len(self._path) > MAX_DEPTH:
                line = self.peek_event().start_mark.line + 1
                where = "".join(self._path[:6]).lstrip(".")
                raise YamlLimitError(f"nested more than {MAX_DEPTH} levels deep", file=self.name, line=line,
                                     field=f"{where}..." if where else None)
            return super().compose_node(parent, index)
        finally:
            self._path.pop()

    def get_single_node(self) -> Any:
        node = super().get_single_node()
        if node is not None:
            _expanded_size(node, {}, self.name)
        return node


def _expanded_size(node: yaml.Node, sizes: dict[int, int], file: str) -> int:
    """How many values ``node`` stands for with every alias expanded (an alias is the very node
    it names, so each node is counted once and its size reused). Refuses past MAX_VALUES,
    naming the line of the smallest node that passes it: where the aliases multiply."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(child, sizes, file) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, sizes, file) + _expanded_size(v, sizes, file) for k, v in node.value)
    else:
        size = 1
    if size > MAX_VALUES:
        raise YamlLimitError(f"aliases expand this value to more than {MAX_VALUES:,} values (refused: an "
                             "alias bomb, or a document far larger than any inventory or playbook)",
                             file=file, line=node.start_mark.line + 1)
    sizes[id(node)] = size
    return size


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> SourceMap:
    loader.flatten_mapping(node)
    result = SourceMap()
    result.file = loader.name
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise ConfigError("mapping keys must be plain values", file=loader.name,
                              line=key_node.start_mark.line + 1)
        if key in result:
            raise ConfigError(f"duplicate key {key!r} (first on line {result.key_lines[key]})",
                              file=loader.name, line=key_node.start_mark.line + 1, field=str(key))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class Vaulted:
    """An Ansible ``!vault`` value: encrypted, and not decrypted by runbook (an Ansible inventory's
    reader drops it, so the variable stays undefined and ``runbook check`` says where it is used)."""

    def __repr__(self) -> str:
        return "<vault-encrypted>"


_Loader.add_constructor("!vault", lambda loader, node: Vaulted())


def parse_yaml(text: str, file: str) -> Any:
    """Parse YAML text; syntax errors become ConfigError with file and line."""
    loader = _Loader(text)
    loader.name = file
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        opened = exc.context_mark.line + 1 if exc.context_mark and exc.problem and exc.context else None
        if opened and opened != line:
            # An unclosed quote or bracket is noticed lines later, or only at the end of the file
            # (a line that does not exist): name where it was opened, and point there at EOF.
            problem += f" ({exc.context} on line {opened})"
            if "end of stream" in exc.problem or "<stream end>" in exc.problem:
                line = opened
        raise ConfigError(f"invalid YAML: {problem}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=file) from None
    finally:
        loader.dispose()


def load_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=str(path)) from None
    return parse_yaml(text, str(path))


def expect_map(value: Any, parent: SourceMap | None, key: str, file: str) -> SourceMap:
    """The value under ``key`` must be a mapping (an absent one is empty)."""
    if value is None:
        empty = SourceMap()
        empty.file, empty.line, empty.key_lines = file, parent.line_of(key) if parent else 0, {}
        return empty
    if not isinstance(value, SourceMap):
        raise ConfigError(f"must be a mapping, not {type(value).__name__}", file=file,
                          line=parent.line_of(key) if parent else None, field=key)
    return value
