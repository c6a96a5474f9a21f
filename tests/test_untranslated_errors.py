"""No error message of ours is a bare literal: every one goes through gettext, so it can be
translated (tests/test_translations.py then checks the Turkish is there)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ["accounts", "appointments", "health_profiles", "medplatform", "notifications", "portal", "privacy", "reviews"]
GETTEXT = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy", "ngettext", "ngettext_lazy", "_lazy"}
# Arguments of an error that reach the client: the message and the per-field messages.
MESSAGE_KEYWORDS = {"detail", "message", "fields", "messages"}


def _sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(), filename=str(path))


def _name(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _error_classes(trees) -> set[str]:
    """ApplicationError, DRF's and Django's ValidationError, and every class of ours built on them."""
    errors = {"ApplicationError", "ValidationError", "DjangoValidationError"}
    bases = {
        node.name: {_name(b) for b in node.bases}
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    }
    grew = True
    while grew:
        grew = False
        for name, parents in bases.items():
            if name not in errors and parents & errors:
                errors.add(name)
                grew = True
    return errors


def _bare_literals(node):
    """String literals in `node` that no gettext call wraps (f-strings and "%"-formatted ones too)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
        yield node
    elif isinstance(node, ast.JoinedStr):
        yield node
    elif isinstance(node, ast.BinOp):
        yield from _bare_literals(node.left)
    elif isinstance(node, ast.Dict):
        for value in node.values:
            yield from _bare_literals(value)
    elif isinstance(node, ast.List | ast.Tuple | ast.Set):
        for element in node.elts:
            yield from _bare_literals(element)
    elif isinstance(node, ast.DictComp):
        yield from _bare_literals(node.value)
    elif isinstance(node, ast.ListComp):
        yield from _bare_literals(node.elt)
    elif isinstance(node, ast.Call) and _name(node.func) in {"str", "dict", "list"}:
        for argument in node.args:
            yield from _bare_literals(argument)
    # any other call (gettext above all) or name is not a literal of ours


def untranslated() -> list[str]:
    sources = list(_sources())
    errors = _error_classes([tree for _, tree in sources])
    found = []
    for path, tree in sources:
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            candidates = []
            if isinstance(node, ast.Call) and _name(node.func) in errors:
                candidates = [*node.args, *(k.value for k in node.keywords if k.arg in MESSAGE_KEYWORDS)]
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(_name(t) in {"default_error_messages", "default_detail", "error_messages"} for t in targets):
                    candidates = [node.value]
            elif isinstance(node, ast.keyword) and node.arg == "error_messages":
                candidates = [node.value]
            for candidate in candidates:
                for literal in _bare_literals(candidate):
                    found.append(f"{where}:{literal.lineno}: {ast.unparse(literal)[:70]}")
    return found


def test_no_error_message_is_an_untranslated_literal():
    assert untranslated() == []


def test_the_scan_finds_a_bare_literal():
    # given: the scan itself must see a bare literal in a raise, a fields dict and default_error_messages
    tree = ast.parse(
        "class Odd(ValidationFailed): default_detail = 'odd'\n"
        "raise ValidationFailed(fields={'x': ['plain']})\n"
        "raise serializers.ValidationError(f'At most {n} days')\n"
        "raise ValidationFailed(fields={'x': [_('fine')]})\n"
        "class F(Field): default_error_messages = {'bad': 'Bad.'}\n"
    )
    errors = _error_classes([tree]) | {"ValidationFailed"}
    literals = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in errors:
            for candidate in [*node.args, *(k.value for k in node.keywords)]:
                literals += [ast.unparse(lit) for lit in _bare_literals(candidate)]
        if isinstance(node, ast.Assign) and _name(node.targets[0]) in {"default_detail", "default_error_messages"}:
            literals += [ast.unparse(lit) for lit in _bare_literals(node.value)]

    assert sorted(literals) == sorted(["'odd'", "'plain'", "f'At most {n} days'", "'Bad.'"])
