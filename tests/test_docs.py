"""The docs are part of the product: they must name every command and every JSON key."""

from __future__ import annotations

import dataclasses
import importlib
import re
from pathlib import Path

import pytest
from typer.main import get_command

from tinycrm.cli.app import COMMANDS, build_app

ROOT = Path(__file__).resolve().parents[1]
CLI_DOC = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")


def _command_paths() -> list[tuple[str, str | None]]:
    """Every runnable command path with its help text."""
    root = get_command(build_app())
    found: list[tuple[str, str | None]] = []

    def walk(cmd: object, path: str) -> None:
        subcommands = getattr(cmd, "commands", None)
        if subcommands:
            if path:
                found.append((path, getattr(cmd, "help", None)))
            for name, sub in subcommands.items():
                walk(sub, f"{path} {name}".strip())
        else:
            found.append((path, getattr(cmd, "help", None)))

    walk(root, "")
    return found


def test_every_command_has_help_and_is_in_the_reference() -> None:
    paths = _command_paths()
    assert len(paths) >= 30
    for path, help_text in paths:
        assert help_text and help_text.strip(), f"'tinycrm {path}' has no help text"
        assert f"`tinycrm {path}" in CLI_DOC, f"'tinycrm {path}' is missing from docs/cli.md"


def test_the_registry_and_the_help_agree() -> None:
    names = {p.split()[0] for p, _ in _command_paths()}
    assert names == set(COMMANDS)


SHAPE = re.compile(r"^- \*\*(?P<name>\w+)\*\*: (?P<keys>.+)$", re.MULTILINE)
MODULES = [
    "tinycrm.services." + m
    for m in (
        "interactions",
        "reminders",
        "contacts",
        "companies",
        "deals",
        "purchases",
        "search",
        "activity",
        "next_actions",
        "agenda",
        "users",
        "value",
        "imports.bulk",
        "imports.purchases",
        "imports.contacts",
        "imports.records",
        "reports",
        "service_report",
        "forecast",
        "goals",
        "duplicates",
        "merge",
        "audit",
        "owners",
        "exports",
        "privacy",
        "init",
        "doctor",
        "cases",
        "sla",
        "team_settings",
        "undo",
        "mail",
        "tags",
        "products",
        "deal_items",
        "quotes",
        "recommend",
        "product_report",
        "campaigns",
        "trends",
        "fields",
        "views",
    )
] + [
    "tinycrm.io.backup",  # backup/restore sit above the services, beside the CLI
    "tinycrm.cli.followups",  # ReasonText: `next` words the services' typed reasons
]


def _dataclass(name: str) -> type:
    for module in MODULES:
        cls = getattr(importlib.import_module(module), name, None)
        if cls is not None and dataclasses.is_dataclass(cls):
            assert isinstance(cls, type)
            return cls
    raise AssertionError(f"docs/cli.md documents {name}, which no service (or io module) defines")


@pytest.mark.parametrize("match", list(SHAPE.finditer(CLI_DOC)), ids=lambda m: m["name"])
def test_documented_json_keys_are_the_real_ones(match: re.Match[str]) -> None:
    documented = set(re.findall(r"`(\w+)`", match["keys"]))
    actual = {f.name for f in dataclasses.fields(_dataclass(match["name"]))}
    assert documented == actual


def test_readme_gives_the_two_setup_commands_and_ci_runs_the_same() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
