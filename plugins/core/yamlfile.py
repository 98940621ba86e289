"""YAML with line numbers: the one loader of every YAML file the project reads.

rules.yaml (:mod:`zhubaodai.core.rules`), calendar.yaml (:mod:`zhubaodai.core.workdays`) and the
importer's bank layouts and pool configurations (:mod:`zhubaodai.importers.config`) are
read by :func:`parse_yaml`, which

* keeps the line of every mapping and of each of its keys (:class:`LineDict`), so an
  error names file:line and the key;
* reads numbers as exact :class:`~decimal.Decimal` (never binary floats), dates as dates
  (a time of day is rejected);
* rejects a key given twice at one level (PyYAML would silently keep the last);
* turns every YAML syntax error into :class:`RulesError` with the line, in Chinese.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

import yaml


class RulesError(Exception):
    """A YAML file of the project (rules.yaml, calendar.yaml, an importer configuration)
    cannot be used: names the file, the line and the key."""

    def __init__(self, filename: str, line: int | None, key: str, message: str) -> None:
        self.filename = filename
        self.line = line
        self.key = key
        self.message = message
        where = f"{filename}:{line}" if line else filename
        super().__init__(f"{where}: rules.yaml 有误（{key}）：{message}")

class LineDict(dict):
    """A mapping that remembers the line of each key (1-based) and its own line.

    """

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps line numbers, reads decimals exactly and rejects duplicates."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, list):
            key = tuple(key)
        line = key_node.start_mark.line + 1
        if key in result:
            raise RulesError(loader.name, line, str(key), "键重复（同一层级出现两次）")
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> Decimal:
    text = loader.construct_scalar(node).replace("_", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise RulesError(loader.name, node.start_mark.line + 1, text, "不是有效的数字") from None


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> datetime.date:
    text = loader.construct_scalar(node)
    try:
        value = yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        raise RulesError(loader.name, node.start_mark.line + 1, text, "不是有效的日期") from None
    if isinstance(value, datetime.datetime):
        raise RulesError(loader.name, node.start_mark.line + 1, text, "日期不应带时间")
    return value


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


#: PyYAML's most frequent problems, in Chinese (the original follows in brackets).
_YAML_PROBLEMS: tuple[tuple[str, str], ...] = (
    ("could not determine a constructor for the tag", "不支持的 YAML 标签（不可用 <<: 合并键或 !! 标签，只写映射、列表、文字、数字、日期）"),
    ("found character '\\t' that cannot start any token", "不能用制表符（Tab）缩进，请用空格"),
    ("mapping values are not allowed here", "此处不能出现“键: 值”（多半是缩进不对，或文字中的冒号需要加引号）"),
    ("found undefined alias", "引用了未定义的锚点（*名称）"),
    ("expected <block end>", "缩进不一致"),
    ("found duplicate anchor", "锚点（&名称）重复"),
    ("found unexpected end of stream", "文件意外结束（引号或括号未闭合）"),
)


def _problem_text(problem: str) -> str:
    for english, chinese in _YAML_PROBLEMS:
        if problem.startswith(english):
            return f"{chinese}　[{problem}]"
    return problem


def parse_yaml(text: str, filename: str) -> Any:
    loader = _Loader(text)
    loader.name = filename
    try:
        return loader.get_single_data()
    except RulesError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise RulesError(filename, line, "YAML", f"无法解析：{_problem_text(problem)}") from None
    finally:
        loader.dispose()
