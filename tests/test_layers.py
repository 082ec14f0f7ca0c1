"""Imports flow one way: faces → domain services → models, and among the domains from the higher to the lower.

The order of the domain packages under app/services is the order of the notice's work: the shared
platform pieces first, then the messages channel (outbox, templates, grants, sender, inbox), people and
their health, the notices (what each event tells people, and the scheduled reminders; the domains above
write them in their own transactions), credentials, transport, check-in, employment, and the office on
top. A module may import its own package and the packages before it, never one after it, so a
newcomer can read the domains bottom-up and no import cycle can form.
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOMAINS = ["platform", "accounts", "messaging", "people", "notices", "credentials", "transport", "scanning",
           "employment", "office"]
FACES = ("miniprogram_api", "checkin", "console")


def _imports(path):
    """Every module a file imports, at the top or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            for alias in node.names:
                yield f"{node.module}.{alias.name}"


def _modules(folder):
    return sorted((ROOT / folder).rglob("*.py"))


def _domain(module):
    parts = module.split(".")
    if parts[:2] == ["app", "services"] and len(parts) > 2:
        return parts[2]
    return None


def test_every_service_module_sits_in_a_domain_package():
    loose = [p.name for p in (ROOT / "app" / "services").glob("*.py") if p.name != "__init__.py"]
    assert loose == []
    packages = sorted(p.name for p in (ROOT / "app" / "services").iterdir()
                      if p.is_dir() and p.name != "__pycache__")
    assert packages == sorted(DOMAINS)
    for name in DOMAINS:
        assert (ROOT / "app" / "services" / name / "__init__.py").read_text(encoding="utf-8").startswith('"""')


@pytest.mark.parametrize("domain", DOMAINS)
def test_a_domain_imports_only_itself_and_the_domains_below(domain):
    allowed = set(DOMAINS[: DOMAINS.index(domain) + 1])
    wrong = []
    for path in _modules(f"app/services/{domain}"):
        for module in _imports(path):
            target = _domain(module)
            if (target and target not in allowed) or module.split(".")[0] in FACES:
                wrong.append(f"{path.relative_to(ROOT)} imports {module}")
    assert wrong == []


def test_models_import_no_service_and_no_face():
    wrong = [f"{path.relative_to(ROOT)} imports {module}"
             for path in _modules("app/models") + [ROOT / "app" / "crypto.py"]
             for module in _imports(path)
             if module.startswith("app.services") or module.split(".")[0] in FACES]
    assert wrong == []


def test_the_core_imports_no_face_but_to_register_it():
    wrong = [f"{path.relative_to(ROOT)} imports {module}"
             for path in _modules("app") if path != ROOT / "app" / "__init__.py"  # the factory wires the faces
             for module in _imports(path)
             if module.split(".")[0] in FACES]
    assert wrong == []
