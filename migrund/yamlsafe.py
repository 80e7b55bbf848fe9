"""Plain-YAML loading with limits: no object tags, no oversized or alias-bomb documents."""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_BYTES = 4 * 1024 * 1024
MAX_NODES = 200_000


class YamlProblem(ValueError):
    """The text is not acceptable YAML; the message says where."""


def load_yaml(text: str) -> Any:
    """Parse one YAML document with the safe loader, enforcing size and node limits."""
    if len(text) > MAX_BYTES:
        raise YamlProblem(f"document is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        return _plain(text)
    except _NotPlain:
        return _full(text)


class _NotPlain(Exception):
    """The document needs the full loader: an alias, a merge key, a tag, a date, a repeated key, an error..."""


_TAG = "tag:yaml.org,2002:"


def _plain(text: str) -> Any:
    """The document built straight from the C parser's nodes, when it is plain: strings, numbers, booleans, nulls, lists, maps.

    PyYAML's constructor walks every node through a general machinery (about 28 us a
    migration file); plain documents need little of it. Anything else goes to the full
    loader, which also words every error: the results are the same
    (tests/unit/test_yamlsafe.py compares the two on the fuzzers' inputs).
    """
    import yaml

    loader = _strict_loader()(text)
    try:
        try:
            nodes = []
            while loader.check_node():
                nodes.append(loader.get_node())
        except yaml.YAMLError:
            raise _NotPlain() from None
        if len(nodes) != 1:
            raise _NotPlain()
        budget = [MAX_NODES]
        seen: set[int] = set()
        scalars = {
            _TAG + "str": lambda node: node.value,
            _TAG + "int": loader.construct_yaml_int,
            _TAG + "bool": loader.construct_yaml_bool,
            _TAG + "null": lambda node: None,
            _TAG + "float": loader.construct_yaml_float,
        }
        scalar_node, sequence_node, mapping_node = yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode

        def build(node: Any) -> Any:
            budget[0] -= 1
            if budget[0] < 0 or id(node) in seen:  # too big, or an alias: the full loader decides
                raise _NotPlain()
            seen.add(id(node))
            kind = node.__class__
            if kind is scalar_node:
                make = scalars.get(node.tag)
                if make is None:
                    raise _NotPlain()
                return make(node)
            if kind is sequence_node and node.tag == _TAG + "seq":
                return [build(item) for item in node.value]
            if kind is mapping_node and node.tag == _TAG + "map":
                built: dict[Any, Any] = {}
                for key_node, value_node in node.value:
                    key = build(key_node)
                    if key.__class__ not in (str, int, float, bool) and key is not None or key in built:
                        raise _NotPlain()
                    built[key] = build(value_node)
                return built
            raise _NotPlain()

        try:
            return build(nodes[0])
        except RecursionError:
            raise _NotPlain() from None
    finally:
        loader.dispose()


def _full(text: str) -> Any:
    """PyYAML's safe loading (duplicate keys refused), with every error worded; size and node limits."""
    import yaml

    loader = _strict_loader()
    try:
        documents = list(yaml.load_all(text, Loader=loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise YamlProblem(f"invalid YAML{where}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise YamlProblem("YAML nesting is too deep") from None
    if len(documents) > 1:
        raise YamlProblem("must hold exactly one YAML document, found several")
    data = documents[0] if documents else None
    _check_size(data)
    return data


_LOADER: Any = None


def _strict_loader() -> Any:
    """The safe loader (C where built), refusing a mapping that holds a key twice."""
    global _LOADER
    if _LOADER is None:
        import yaml

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class StrictLoader(base):  # type: ignore[misc, valid-type]
            def construct_object(self, node: Any, deep: bool = False) -> Any:
                # A scalar the resolver took for a date or a number but that is none
                # (2025-00-01) makes PyYAML raise a bare ValueError: word it, with its line.
                try:
                    return super().construct_object(node, deep=deep)
                except (ValueError, OverflowError) as exc:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"{getattr(node, 'value', '')!r} cannot be read as a {node.tag.rsplit(':', 1)[-1]}: {exc}",
                        node.start_mark) from None

            def construct_mapping(self, node: Any, deep: bool = False) -> Any:
                # PyYAML lets the last of two equal keys win silently: an edit that
                # duplicates `up:` would drop steps without a word.
                seen: dict[Any, int] = {}
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key = self.construct_object(key_node, deep=True)
                    try:
                        first = seen.get(key)
                    except TypeError:
                        continue  # an unhashable key: the base constructor says so
                    if first is None:
                        seen[key] = key_node.start_mark.line + 1
                    else:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"duplicate key {key!r} (first at line {first})", key_node.start_mark
                        )
                return super().construct_mapping(node, deep=deep)

        _LOADER = StrictLoader
    return _LOADER


def _check_size(data: Any) -> None:
    # Aliases share one object, so a bomb is small in memory yet explodes when walked:
    # walk it once with a budget, the way every later consumer would.
    budget = MAX_NODES
    stack = [data]
    while stack:
        item = stack.pop()
        budget -= 1
        if budget < 0:
            raise YamlProblem(f"document has more than {MAX_NODES} nodes (an alias bomb?)")
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
