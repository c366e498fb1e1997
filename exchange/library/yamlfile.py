"""Safe YAML reading: the one module that imports PyYAML."""

from __future__ import annotations

import re

import yaml

from exchange.errors import Invalid

#: Front matter larger than this is refused before it is parsed.
MAX_FRONT_MATTER_BYTES = 16 * 1024


class YamlProblem(Invalid):
    """The YAML text cannot be accepted; the message says why and where."""


class _NoAliasLoader(yaml.SafeLoader):
    """A safe loader that refuses anchors and aliases (billion-laughs) and YAML 1.1 oddities."""

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise YamlProblem(_where(event) + "YAML aliases (*name) are not allowed")
        if getattr(event, "anchor", None) is not None:
            raise YamlProblem(_where(event) + "YAML anchors (&name) are not allowed")
        return super().compose_node(parent, index)


def _yaml12_resolvers() -> dict:
    """Implicit resolvers without YAML 1.1 surprises: yes/no/on/off stay strings, dates stay text.

    Dates are checked by the practice schema, which can then say exactly what is wrong with them.
    """
    bool_tag = "tag:yaml.org,2002:bool"
    resolvers: dict = {}
    for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items():
        kept = [(t, r) for t, r in entries if t not in (bool_tag, "tag:yaml.org,2002:timestamp")]
        if first in "tTfF" and first is not None:
            kept.insert(0, (bool_tag, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")))
        resolvers[first] = kept
    return resolvers


_NoAliasLoader.yaml_implicit_resolvers = _yaml12_resolvers()


def _where(event_or_mark) -> str:  # type: ignore[no-untyped-def]
    mark = getattr(event_or_mark, "start_mark", event_or_mark)
    if mark is None:
        return ""
    return f"line {mark.line + 1}: "


def load_untrusted(text: str, first_line: int = 1, max_bytes: int = MAX_FRONT_MATTER_BYTES,
                   what: str = "front matter") -> object:
    """The Python value of a YAML document from outside: safe types only, no aliases, bounded size.

    Error messages count lines from ``first_line`` (the document's place in its file).
    """
    if len(text.encode("utf-8")) > max_bytes:
        raise YamlProblem(f"{what} is larger than {max_bytes // 1024} KB")
    try:
        # Blank lines in front keep PyYAML's line numbers equal to the file's.
        return yaml.load("\n" * (first_line - 1) + text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader
    except YamlProblem:
        raise
    except yaml.constructor.ConstructorError as error:
        found = re.search(r"tag '([^']*)'", error.problem or "")
        if found:
            tag = found.group(1).replace("tag:yaml.org,2002:", "!!")
            raise YamlProblem(f"{_where(error.problem_mark)}unsupported YAML tag {tag}") from None
        raise YamlProblem(f"{_where(error.problem_mark)}{error.problem}") from None
    except yaml.MarkedYAMLError as error:
        raise YamlProblem(f"{_where(error.problem_mark)}invalid YAML: {error.problem}") from None
    except yaml.YAMLError as error:
        raise YamlProblem(f"invalid YAML: {error}") from None


def load_trusted(text: str) -> object:
    """The value of one of our own data files (still with the safe loader)."""
    return yaml.safe_load(text)


def dump(data: object, block: bool = False) -> str:
    """YAML text for ``data``, keys in the given order, Unicode kept readable (``block``: no inline maps)."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False if block else None,
                          width=10_000 if block else 80)


def dump_key(key: str, value: object) -> str:
    """One top-level ``key: value`` line of YAML (a list inline, nothing wrapped), ending in a newline."""
    # Dumped as the only item of a flow sequence, a value comes out on one line in flow style.
    item = yaml.safe_dump([value], allow_unicode=True, default_flow_style=True, width=1_000_000).strip()
    return f"{key}: {item[1:-1]}\n"
