"""docs/configuration.md is generated from the config schema and must not drift from it."""

import importlib.util
import re
from pathlib import Path

import pytest

from sonoflow.common.schema import load_schema

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "docs/make_configuration.py"


@pytest.fixture(scope="module")
def generator():
    spec = importlib.util.spec_from_file_location("make_configuration", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_configuration_reference_matches_the_schema(generator):
    committed = (ROOT / "docs/configuration.md").read_text()
    assert committed == generator.render(load_schema()), (
        "docs/configuration.md differs from the schema: run `make docs` "
        "(python docs/make_configuration.py) and commit the result"
    )


def test_every_config_key_has_a_description(generator):
    assert generator.undescribed_keys(load_schema()) == []


def test_schema_holds_only_json_schema_keywords(generator):
    # An unquoted comma in a flow mapping cuts a description short and leaves the rest
    # as a stray key that jsonschema silently ignores.
    assert generator.stray_keywords(load_schema()) == []


def test_reference_lists_keys_types_and_defaults(generator):
    schema = {
        "description": "Top.",
        "properties": {
            "corpus": {
                "description": "Section.",
                "type": "object",
                "default": {},
                "properties": {
                    "lr": {"description": "Rate.", "type": "number", "minimum": 0, "default": 1e-5},
                    "mode": {"description": "a | b", "enum": ["a", "b"], "default": "a"},
                },
            },
            "models": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "required": ["size"],
                    "properties": {"size": {"type": "integer"}},
                },
            },
        },
    }
    page = generator.render(schema)
    assert "| `corpus.lr` | number >= 0 | `1.0e-05` | Rate. |" in page
    assert "| `corpus.mode` | one of `a`, `b` | `a` | a \\| b |" in page
    assert "| `models.NAME.size` | integer | (required) |  |" in page
    assert generator.undescribed_keys(schema) == ["models", "models.NAME.size"]


def test_stray_keywords_finds_a_description_cut_at_a_comma(generator):
    import yaml

    schema = yaml.safe_load("properties: {seed: {description: Seed of a, b and c., type: integer}}")
    assert generator.stray_keywords(schema) == ["seed: 'b and c.'"]


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to -."""
    kept = "".join(c for c in heading.strip().lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return {_anchor(m) for m in re.findall(r"^#+ (.+)$", text, flags=re.M)}


@pytest.mark.parametrize(
    "page", [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))], ids=lambda p: p.name
)
def test_links_between_pages_resolve(page):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or (anchor and anchor not in _anchors(linked)):
            broken.append(target)
    assert broken == [], f"{page.name}: broken links {broken}"
