"""Every refusal code raised anywhere has an English and a Dutch text, and every text's
parameters are passed by the sites that raise it (issue 22, "Dutch answers").

The raise sites are found by reading the source (AST), not by running it: every call of
``DomainError``, its subclasses (found by their class statements), ``refuse`` and ``ApiError``
in domain/, api/, mlob/ and projections/. A code or text variant that is not a literal (or a
choice of literals, or a module constant) must be listed in ``DYNAMIC`` with every value it can
take, so a new computed code fails here until its texts exist.
"""

from __future__ import annotations

import ast
import string
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from domain.kinds import KIND_RULES, Justification
from domain.policy import SUBSCRIPTION_REFUSALS, TOKEN_REFUSALS
from domain.refusals import TEXTS, render

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "api", "mlob", "projections")
#: The refusal classes and factories whose calls are raise sites (subclasses are added).
RAISERS = {"DomainError", "NotPermitted", "NotFound", "Conflict", "TooLarge", "refuse", "ApiError"}
#: Keyword arguments that are not parameters of the text.
NOT_PARAMS = {"text", "pointer", "index", "details"}

#: (file, the code expression as ast.unparse writes it) -> every code it can be. An empty
#: tuple: a pass-through wrapper (its own callers are raise sites, checked themselves).
DYNAMIC: dict[tuple[str, str], Callable[[], Iterable[str]]] = {
    ("domain/access.py", "code"): lambda: TOKEN_REFUSALS,
    ("domain/subscription.py", "refusal"): lambda: SUBSCRIPTION_REFUSALS,
    ("mlob/subscriptions.py", "refusal"): lambda: SUBSCRIPTION_REFUSALS,
    ("domain/request/rules.py", "code"): lambda: (),
    ("domain/request/rules.py", "f'{rule.kind.value}_police_task'"): lambda: [
        f"{rule.kind.value}_police_task" for rule in KIND_RULES.values() if rule.police_task_route
    ],
    ("domain/request/rules.py", "f'missing_justification_{needed.value}'"): lambda: [
        f"missing_justification_{j.value}" for j in Justification
    ],
    ("api/app.py", "codes.get(exc.status_code, 'http_error')"): lambda: [
        "not_found",
        "method_not_allowed",
        "http_error",
    ],
}


@dataclass(frozen=True)
class Site:
    where: str
    keys: tuple[str, ...]
    params: frozenset[str]
    #: Passes ``**kwargs`` on (a wrapper): its parameters are its callers'.
    passes_on: bool


class Unresolved(Exception):
    pass


def _constants(tree: ast.Module) -> dict[str, str]:
    found = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            found[node.targets[0].id] = node.value.value
    return found


def _values(node: ast.expr, constants: dict[str, str], path: str) -> list[str | None]:
    """Every value an expression for a code or a text variant can take."""
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, str)):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _values(node.body, constants, path) + _values(node.orelse, constants, path)
    if isinstance(node, ast.Name) and node.id in constants:
        return [constants[node.id]]
    dynamic = DYNAMIC.get((path, ast.unparse(node)))
    if dynamic is None:
        raise Unresolved(f"{path}:{node.lineno}: {ast.unparse(node)} (add it to DYNAMIC)")
    return list(dynamic())


def _raisers(trees: Iterable[ast.Module]) -> set[str]:
    names = set(RAISERS)
    for _ in range(3):  # subclasses of subclasses
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and any(
                    isinstance(b, ast.Name) and b.id in names for b in node.bases
                ):
                    names.add(node.name)
    return names


def sites(files: Iterable[Path], root: Path = ROOT) -> Iterator[Site]:
    """The raise sites in ``files`` (raises Unresolved for a code it cannot resolve)."""
    parsed = [(str(f.relative_to(root)), ast.parse(f.read_text())) for f in files]
    names = _raisers(tree for _, tree in parsed)
    for path, tree in parsed:
        constants = _constants(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            # A class by any name (errors.Conflict); a function only by its own (not a method
            # that happens to be called refuse).
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute) and func.attr[:1].isupper()
                else None
            )
            if name not in names:
                continue
            position = 1 if name == "ApiError" else 0
            if len(node.args) <= position:
                continue  # not a refusal (e.g. a bare subclass call in a type check)
            codes = _values(node.args[position], constants, path)
            texts: list[str | None] = [None]
            params = set()
            passes_on = False
            for keyword in node.keywords:
                if keyword.arg is None:
                    passes_on = True
                elif keyword.arg == "text":
                    texts = _values(keyword.value, constants, path)
                elif keyword.arg not in NOT_PARAMS:
                    params.add(keyword.arg)
            keys = tuple(
                f"{code}.{text}" if text else str(code) for code in codes for text in texts
            )
            yield Site(f"{path}:{node.lineno}", keys, frozenset(params), passes_on)


def _files() -> list[Path]:
    return [f for package in PACKAGES for f in sorted((ROOT / package).rglob("*.py"))]


def _fields(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def problems(found: Iterable[Site]) -> list[str]:
    """What is wrong with the catalogue for these raise sites."""
    wrong = []
    for site in found:
        placed: set[str] = set()
        for key in site.keys:
            text = TEXTS.get(key)
            if text is None:
                wrong.append(f"{site.where}: no text for {key}")
                continue
            if site.passes_on:
                continue
            for language, template in (("en", text.en), ("nl", text.nl)):
                missing = _fields(template) - site.params
                if missing:
                    wrong.append(f"{site.where}: {key} ({language}) needs {sorted(missing)}")
            placed |= _fields(text.en) | _fields(text.nl)
        unused = site.params - placed
        if unused and not site.passes_on and placed:
            wrong.append(f"{site.where}: no text has a place for {sorted(unused)}")
    return wrong


@pytest.fixture(scope="module")
def all_sites() -> list[Site]:
    """Every raise site of the code (scanned when a test asks, not when pytest collects:
    every pytest process collects this module)."""
    return list(sites(_files()))


def test_the_scan_finds_the_raise_sites(all_sites: list[Site]) -> None:
    # A scan that finds nothing would pass everything: about 190 sites raise today.
    assert len(all_sites) > 150
    keys = {key for site in all_sites for key in site.keys}
    assert {"out_of_order.booking_needs", "unknown_line.line", "exercise_mismatch.real"} <= keys
    assert {"missing_justification_prosecutor_permission", "admin_only.token"} <= keys


def test_every_refusal_code_has_an_english_and_a_dutch_text(all_sites: list[Site]) -> None:
    assert problems(all_sites) == []


def test_every_text_is_raised_somewhere(all_sites: list[Site]) -> None:
    """No text without a raise site (a stale entry would hide a renamed code)."""
    keys = {key for site in all_sites for key in site.keys}
    assert sorted(set(TEXTS) - keys) == []


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_each_text_is_dutch_and_renders(key: str) -> None:
    text = TEXTS[key]
    assert text.en.strip() and text.nl.strip()
    assert text.nl != text.en, f"{key}: the Dutch text is the English one"
    assert _fields(text.nl) <= _fields(text.en) | {"detail"}, key
    sample = {field: ["A", "B"] for field in _fields(text.en) | _fields(text.nl)}
    for language in ("en", "nl"):
        rendered = render(key, sample, language)
        assert "{" not in rendered.replace('{"to"', "") and key not in rendered, rendered


def test_a_new_code_without_a_text_fails(tmp_path: Path) -> None:
    """The check itself: a raise site with an unknown code, a computed code, or a text
    parameter its site does not pass is reported."""
    module = tmp_path / "domain" / "new_rule.py"
    module.parent.mkdir()
    module.write_text(
        "from domain.errors import Conflict, DomainError\n"
        "class Special(Conflict):\n    pass\n"
        "def f(x: str) -> None:\n"
        "    raise Special('brand_new_code', 'mlob rules', thing=x)\n"
        "def g() -> None:\n"
        "    raise DomainError('unknown_line', 'mlob rules', text='line')\n"
    )
    found = list(sites([module], root=tmp_path))
    assert problems(found) == [
        "domain/new_rule.py:5: no text for brand_new_code",
        "domain/new_rule.py:7: unknown_line.line (en) needs ['line_id']",
        "domain/new_rule.py:7: unknown_line.line (nl) needs ['line_id']",
    ]
    module.write_text(
        "from domain.errors import DomainError\n"
        "def f(x: str) -> None:\n"
        "    raise DomainError(f'{x}_code', 'mlob rules')\n"
    )
    with pytest.raises(Unresolved, match="add it to DYNAMIC"):
        list(sites([module], root=tmp_path))


def test_a_refusal_renders_its_parameters_in_both_languages() -> None:
    """Enums travel as their values, lists are joined with the language's "or", an empty
    list or None reads "nobody", and ``reason`` stays English for logs."""
    from uuid import UUID

    from domain.errors import Conflict, NotPermitted
    from domain.rights import Step

    booking = UUID(int=7)
    refusal = Conflict(
        "out_of_order",
        "mlob rules",
        text="booking_needs",
        booking_id=booking,
        booking_step=Step.DISPATCH,
        step=Step.RELEASE,
        needs=(Step.COMMIT, Step.DISPATCH),
    )
    assert refusal.params == {
        "booking_id": str(booking),
        "booking_step": "dispatch",
        "step": "release",
        "needs": ["commit", "dispatch"],
    }
    assert refusal.reason == f"booking {booking} is dispatch; release needs commit or dispatch"
    assert refusal.reason_in("nl") == (
        f"Boeking {booking} heeft de status dispatch; de stap release vereist commit of dispatch."
    )
    assert refusal.reason_in("fr") == refusal.reason  # anything else is English
    nobody = NotPermitted("wrong_decider", "s", text="no_share", actor="DEF", waiting=[])
    assert nobody.reason.endswith("the request waits for nobody")
    assert nobody.reason_in("nl").endswith("de aanvraag wacht op niemand.")
    assert str(nobody).startswith("wrong_decider: DEF was not asked")


def test_the_field_texts_name_pydantic_checks_and_render_with_their_context() -> None:
    """Each Dutch field text (FIELD_TEXTS) is one of pydantic's error types, and renders
    with the context pydantic gives that error (an unknown context still renders)."""
    from typing import get_args

    from pydantic import BaseModel, Field, ValidationError
    from pydantic_core.core_schema import ErrorType

    from domain.refusals import FIELD_TEXTS, field_text

    assert set(FIELD_TEXTS) <= set(get_args(ErrorType))

    class Probe(BaseModel):
        count: int = Field(gt=0, le=5)
        name: str = Field(max_length=3)

    for bad, expected in (
        ({"count": 0, "name": "a"}, "Moet groter zijn dan 0."),
        ({"count": 9, "name": "a"}, "Mag hoogstens 5 zijn."),
        ({"count": 1, "name": "abcd"}, "Mag hoogstens 3 tekens lang zijn."),
        ({"count": "x", "name": "a"}, "Moet een geheel getal zijn."),
        ({"name": "a"}, "Dit veld is verplicht."),
    ):
        with pytest.raises(ValidationError) as raised:
            Probe.model_validate(bad)
        [found] = raised.value.errors()
        assert field_text(found["type"], found.get("ctx")) == expected
    for key, template in FIELD_TEXTS.items():
        rendered = field_text(key, {})
        assert rendered and "{" not in rendered, key
        assert template.endswith("."), key
    assert field_text("no_such_check", {}) is None
