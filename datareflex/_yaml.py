"""Read any pydantic model from YAML; every mistake names the file, the line and the key.

One helper for every configuration file (a policy, the suite's ``suite.yaml``): YAML is loaded
safely (any tag, such as ``!!python/object``, is refused at its line; so are aliases that loop
or expand past :data:`MAX_NODES` values), the document is validated by the model,
and a :class:`pydantic.ValidationError` becomes one :class:`ConfigError` whose message reads
``policy.yaml, line 5: rules.0.then must be one of [...], got 'quarantin'``: the 1-based line
of the offending key, the dotted path of keys, and a short message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import pydantic
import yaml

from .errors import ConfigError

Model = TypeVar("Model", bound=pydantic.BaseModel)
_QUOTED = re.compile(r"'([^']*)'")
MAX_NODES = 100_000
"""The most values a configuration file may hold once its aliases are expanded (a "billion
laughs" file is refused, not expanded)."""


class KeyedValueError(ValueError):
    """Raised by a model's validator about a key below the model (``keys``, from the model
    down): :func:`load_yaml_model` then names that key's line rather than the model's."""

    def __init__(self, keys: Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.keys = tuple(keys)


def load_yaml_model(
    model_cls: type[Model], text: str, source: str = "<yaml>", *, error: type[ConfigError] = ConfigError
) -> Model:
    """Parse ``text`` as YAML and validate it as ``model_cls``; raise ``error`` naming the line.

    >>> class Retry(pydantic.BaseModel):
    ...     model_config = pydantic.ConfigDict(extra="forbid")
    ...     attempts: int = pydantic.Field(ge=1)
    >>> load_yaml_model(Retry, "attempts: 3\\n", "retry.yaml")
    Retry(attempts=3)
    >>> load_yaml_model(Retry, "# how often\\nattempts: 0\\n", "retry.yaml")
    Traceback (most recent call last):
    ...
    datareflex.errors.ConfigError: retry.yaml, line 2: attempts must be greater than or equal to 1, got 0
    >>> load_yaml_model(Retry, "attempts: 3\\ncolour: red\\n", "retry.yaml")
    Traceback (most recent call last):
    ...
    datareflex.errors.ConfigError: retry.yaml, line 2: colour is not a valid key; valid keys: ['attempts']
    """
    node, data = _load(text, source, error)
    try:
        return model_cls.model_validate(data)
    except pydantic.ValidationError as exc:
        errors = exc.errors(include_url=False)
        # A misspelt key explains a missing one: name it first.
        first = min(errors, key=lambda e: e["type"] != "extra_forbidden")
        raise error(_message(model_cls, node, first, source)) from None


def _load(text: str, source: str, error: type[ConfigError]) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (for line numbers) and its plain data, loaded safely."""
    try:
        loader = _PlainLoader(text)
    except yaml.reader.ReaderError as exc:
        row = text[: exc.position].count("\n") + 1
        problem = f"character #x{exc.character:04x}: {exc.reason}"
        raise error(f"{source}, line {row}: not valid YAML: {problem}") from None
    try:
        node = loader.get_single_node()
        if node is not None and _expanded_size(node) > MAX_NODES:
            raise error(f"{source}: not valid YAML: more than {MAX_NODES} values once aliases are expanded")
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f", line {mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "not valid YAML"
        raise error(f"{source}{line}: not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise error(f"{source}: not valid YAML: {exc}") from None
    except RecursionError:
        raise error(f"{source}: not valid YAML: nested too deeply") from None
    finally:
        loader.dispose()
    if data is None:
        raise error(f"{source}: the file is empty")
    repeated = _repeated_key(node)
    if repeated is not None:
        key, path = repeated
        where = ".".join([*path, str(key.value)])
        raise error(f"{source}, line {key.start_mark.line + 1}: {where} is given twice")
    return node, data


class _PlainLoader(yaml.SafeLoader):
    """The safe loader, stricter: any explicit tag (``!!python/object``, ``!secret``, even
    ``!!str``) and any alias inside the node it names are errors at their line, before anything
    is constructed."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.open_anchors: set[str] = set()

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self.open_anchors:
                problem = f"the alias *{event.anchor} is inside the value it names (a loop)"
                raise yaml.composer.ComposerError(None, None, problem, event.start_mark)  # type: ignore[arg-type]
            return super().compose_node(parent, index)
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            shown = str(tag).replace("tag:yaml.org,2002:", "!!")
            problem = f"the tag {shown} is not allowed: only plain YAML is read (quote text)"
            raise yaml.constructor.ConstructorError(None, None, problem, event.start_mark)
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self.open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self.open_anchors.discard(anchor or "")


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes the document has once aliases are expanded (each shared node counted
    every time it is used), computed once per distinct node."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        if id(node) not in sizes:
            children: list[yaml.Node] = []
            if isinstance(node, yaml.MappingNode):
                children = [part for pair in node.value for part in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = list(node.value)
            sizes[id(node)] = min(1 + sum(size(child) for child in children), MAX_NODES + 1)
        return sizes[id(node)]

    return size(root)


def _repeated_key(node: yaml.Node | None, path: tuple[str, ...] = ()) -> tuple[yaml.Node, list[str]] | None:
    """The first key that a mapping repeats (YAML would silently keep the last), with its path."""
    children: list[tuple[str, yaml.Node]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value in seen:
                return key, list(path)
            seen.add(str(key.value))
            children.append((str(key.value), value))
    elif isinstance(node, yaml.SequenceNode):
        children = [(str(i), item) for i, item in enumerate(node.value)]
    for name, child in children:
        found = _repeated_key(child, (*path, name))
        if found is not None:
            return found
    return None


def _message(model_cls: type[pydantic.BaseModel], root: yaml.Node | None, error: Any, source: str) -> str:
    loc = [part for part in error["loc"] if not _is_tag(part)]
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, KeyedValueError):  # the validator named the key; its message the value
        loc = [*loc, *cause.keys]
        line = _locate(root, loc)[0] if root is not None else 1
        return f"{source}, line {line}: {'.'.join(str(part) for part in loc)}: {cause}"
    line, found = _locate(root, loc) if root is not None else (1, [])
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        valid = _field_names(model_cls, loc[:-1])
        text = "is not a valid key" + (f"; valid keys: {valid}" if valid else "")
        path = loc
    elif kind == "missing":
        text, path = "is required", loc
    else:
        path = found  # a scalar where a list was wanted: name the key, not a position in it
        text = _short(error["msg"], error.get("ctx") or {}, kind)
        shown = repr(value)
        if len(shown) <= 60:
            text += f", got {shown}"
    where = ".".join(str(part) for part in path) or "the document"
    return f"{source}, line {line}: {where} {text}"


def _short(msg: str, ctx: dict[str, Any], kind: str) -> str:
    """Pydantic's message, shorter: ``must be one of [...]`` for a closed set of values."""
    if kind in ("enum", "literal_error"):
        return f"must be one of {re.findall(_QUOTED, str(ctx.get('expected', '')))}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "must be a mapping"
    if kind in ("list_type", "tuple_type"):
        return "must be a list"
    text = msg.removeprefix("Value error, ").replace("Input should be", "must be")
    return text[:1].lower() + text[1:]


def _is_tag(part: Any) -> bool:
    """Pydantic names union members and validators in ``loc``; they are not keys of the file."""
    return isinstance(part, str) and (part.startswith(("function-", "list[", "tuple[")) or "[" in part)


def yaml_line(text: str, keys: Sequence[Any]) -> int:
    """The 1-based line of the key at ``keys`` in ``text`` (or of the deepest part that exists):
    for errors a model cannot raise itself, such as a file a key names that does not exist.

    >>> yaml_line("datasets:\\n  sales:\\n    policy: p.yaml\\n", ["datasets", "sales", "policy"])
    3
    """
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    return 1 if root is None else _locate(root, keys)[0]


def _locate(root: yaml.Node, loc: Sequence[Any]) -> tuple[int, list[Any]]:
    """The 1-based line of the key at ``loc`` (or of the deepest part of it that exists) and the
    part of ``loc`` that exists in the file."""
    node, line, found = root, root.start_mark.line + 1, []
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if str(k.value) == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
        found.append(part)
    return line, found


def _field_names(model_cls: type[pydantic.BaseModel], loc: Sequence[Any]) -> list[str]:
    """The keys the model accepts at ``loc`` (empty when the place is not a model)."""
    current: Any = model_cls
    for part in loc:
        current = _inside(current, part)
        if current is None:
            return []
    model = _model_in(current)
    return sorted(f.alias or name for name, f in model.model_fields.items()) if model else []


def _inside(annotation: Any, part: Any) -> Any:
    """The annotation of ``part`` within ``annotation``: a model's field, a mapping's value or a
    list's item."""
    model = _model_in(annotation)
    if model is not None and annotation is model:
        field = next((f for name, f in model.model_fields.items() if (f.alias or name) == part), None)
        return None if field is None else field.annotation
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        origin = getattr(candidate, "__origin__", None)
        arguments: tuple[Any, ...] = tuple(getattr(candidate, "__args__", ()))
        if origin in (dict, Mapping) and len(arguments) == 2 and not isinstance(part, int):
            return arguments[1]
        if origin in (list, tuple, Sequence) and arguments and isinstance(part, int):
            return arguments[0]
    return _inside(model, part) if model is not None else None


def _model_in(annotation: Any) -> type[pydantic.BaseModel] | None:
    """The pydantic model ``annotation`` is, or holds directly (``Rule | None``, ``Annotated``)."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    if getattr(annotation, "__origin__", None) in (dict, list, tuple, Mapping, Sequence):
        return None
    for argument in getattr(annotation, "__args__", ()):
        found = _model_in(argument)
        if found is not None:
            return found
    return None
