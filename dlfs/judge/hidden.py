"""The learner's version of a test cell: the same calls on the same inputs, with no expected value.

A test cell runs in two kernels. In the trusted one, with the instructor's solution, it runs as
written. In the learner's, it must not compute anything the grade is compared with, since learner
code can read its caller's variables. So the learner's version of the cell

- drops the lines between ``### BEGIN REFERENCE`` and ``### END REFERENCE`` (code that only computes
  expected values, e.g. a reference trajectory), and
- replaces the expected argument of every check (``check_close(got, EXPECTED, ...)``) by ``...``
  and drops its ``mistakes=``, whose wrong values are computed from the right ones.

:func:`leaks` finds what a test author forgot to fence: a name the learner's version still computes
but never uses, because its only use was an expected value.
"""

import ast
import re

REFERENCE_BLOCK = re.compile(r"^[ \t]*### BEGIN REFERENCE[ \t]*\n.*?^[ \t]*### END REFERENCE[ \t]*(\n|\Z)",
                             re.MULTILINE | re.DOTALL)

# check function -> the position of its expected argument, and the keywords that carry expected values
EXPECTED_ARGUMENT = {"check_close": 1, "check_gradient": 1, "check_shape": 1, "check_length": 1}
EXPECTED_KEYWORDS = {"expected", "numerical", "expected_shape", "expected_length", "mistakes"}


class TestSourceError(ValueError):
    """A test cell that would hand an expected value to the learner's kernel."""


class _StripExpected(ast.NodeTransformer):
    def visit_Call(self, node):
        self.generic_visit(node)
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name in EXPECTED_ARGUMENT:
            position = EXPECTED_ARGUMENT[name]
            if len(node.args) > position:
                node.args[position] = ast.copy_location(ast.Constant(value=Ellipsis), node.args[position])
            node.keywords = [k for k in node.keywords if k.arg not in EXPECTED_KEYWORDS]
        return node


def learner_version(source):
    """The test cell's code as the learner's kernel runs it (see the module docstring)."""
    without_reference = REFERENCE_BLOCK.sub("", source)
    if "### BEGIN REFERENCE" in without_reference or "### END REFERENCE" in without_reference:
        raise TestSourceError("an unmatched ### BEGIN REFERENCE / ### END REFERENCE marker")
    tree = _StripExpected().visit(ast.parse(without_reference))
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def _names(node, ctx):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)}


def _effects(tree):
    """(stores, loads) of every statement; a compound statement counts only its header, a function
    or class definition stores its name and loads what its body loads."""
    effects = []
    # what a class body defines (methods, class attributes) belongs to the class, which is the name stored
    in_class = {id(child) for node in ast.walk(tree) if isinstance(node, ast.ClassDef) for child in node.body}
    for node in ast.walk(tree):
        if id(node) in in_class:
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            params = {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
            effects.append(({node.name}, _names(node, ast.Load) - params))
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            stores = set().union(*(_names(t, ast.Store) for t in targets))
            # x[i] = v or x.a = v changes x
            stores |= {t.value.id for t in targets if isinstance(t, (ast.Subscript, ast.Attribute))
                       and isinstance(t.value, ast.Name)}
            effects.append((stores, _names(node.value, ast.Load) if node.value else set()))
        elif isinstance(node, ast.Expr):
            call = node.value
            method_of = (call.func.value.id if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                         and isinstance(call.func.value, ast.Name) and call.func.attr in ("append", "extend", "update")
                         else None)
            effects.append(({method_of} if method_of else set(), _names(node, ast.Load) - {method_of}))
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            effects.append((_names(node.target, ast.Store), _names(node.iter, ast.Load)))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                effects.append((_names(item.optional_vars, ast.Store) if item.optional_vars else set(),
                                _names(item.context_expr, ast.Load)))
        elif isinstance(node, (ast.If, ast.While)):
            effects.append((set(), _names(node.test, ast.Load)))
        elif isinstance(node, (ast.Return, ast.Raise, ast.Assert, ast.Delete)):
            effects.append((set(), _names(node, ast.Load)))
    return effects


def leaks(source):
    """Names the learner's version computes but that nothing it does needs: their only use was an
    expected value, so they must move into a REFERENCE block (or be removed).

    A statement matters if it stores nothing (a check, a call of the learner's code, a ``with``); a
    name is needed if a statement that matters, or that computes a needed name, reads it. Names the
    visible part of the test computes are public (the learner reads that code) and never count.
    """
    visible = split_test(source)[1]
    public = set().union(*(stores for stores, _ in _effects(ast.parse(learner_version(visible))))) \
        if visible.strip() else set()
    effects = _effects(ast.parse(learner_version(source)))
    stored = set().union(*(stores for stores, _ in effects)) if effects else set()
    needed = set().union(*(loads for stores, loads in effects if not stores)) if effects else set()
    while True:
        more = set().union(*(loads for stores, loads in effects if stores & needed)) if effects else set()
        if more <= needed:
            break
        needed |= more
    return sorted(name for name in stored - needed - public if name != "_")


HIDDEN_MARKER = re.compile(r"^### BEGIN HIDDEN TESTS[ \t]*$", re.MULTILINE)
HIDDEN_END = re.compile(r"^### END HIDDEN TESTS[ \t]*(\n|\Z)", re.MULTILINE)
SETUP = "setup"


def split_test(source):
    """(setup, visible part, hidden part) of a test cell's source, each "" if absent.

    The setup is a hidden block that opens the cell, before any visible line: hidden helpers that this
    cell's and later cells' hidden tests use, defined even when the visible checks fail. The hidden part
    starts at the next ``### BEGIN HIDDEN TESTS``."""
    setup = ""
    first = HIDDEN_MARKER.search(source)
    if first and not source[:first.start()].strip():
        end = HIDDEN_END.search(source, first.end())
        if end:
            setup, source = source[:end.end()], source[end.end():]
    found = HIDDEN_MARKER.search(source)
    visible, hidden = (source, "") if not found else (source[:found.start()], source[found.start():])
    return setup, visible, hidden


def parts_to_run(source, mode):
    """A test cell's parts in the order they run, as (kind, code), kind being SETUP, False (visible) or
    True (hidden): the setup, the visible tests, then the hidden ones, each as the learner's version in
    "observe" mode. (The kernel gets them one at a time; a setup checks nothing.)"""
    return [(kind, learner_version(part) if mode == "observe" else part)
            for kind, part in zip((SETUP, False, True), split_test(source)) if part.strip()]
