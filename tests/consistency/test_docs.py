"""The documentation against the tree: docs/layout.md names every module,
configuration, recipe and benchmark; relative links of README.md, docs/ and
the recipes' READMEs point to files (and headings) that exist."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), *sorted((REPO / "recipes").rglob("README.md"))]


def layout_files(repo: Path = REPO):
    """Files docs/layout.md must name, as paths from the repository root."""
    found = [p for p in (repo / "jepa_tokenizer").rglob("*.py") if p.name != "__init__.py"]
    found += list((repo / "jepa_tokenizer" / "configs").glob("*.yaml"))
    found += list((repo / "hparams").glob("*.yaml"))
    for pattern in ("*.yaml", "*.py", "*.sh"):
        found += (repo / "recipes").rglob(pattern)
    found += list((repo / "benchmarks").glob("*.py"))
    return sorted({p.relative_to(repo).as_posix() for p in found if not p.is_symlink()})


def missing_from_layout(repo: Path = REPO):
    text = (repo / "docs" / "layout.md").read_text(encoding="utf-8")
    return [path for path in layout_files(repo) if f"`{path}`" not in text]


def test_the_layout_names_every_module_configuration_recipe_and_benchmark():
    assert missing_from_layout() == [], "add these to docs/layout.md, one line each"


def test_the_layout_check_catches_a_missing_module(tmp_path):
    for folder in ("jepa_tokenizer/nn", "jepa_tokenizer/configs", "hparams", "recipes/X/hparams", "benchmarks", "docs"):
        (tmp_path / folder).mkdir(parents=True)
    for path in ("jepa_tokenizer/nn/__init__.py", "jepa_tokenizer/nn/a.py", "jepa_tokenizer/nn/b.py", "hparams/q.yaml"):
        (tmp_path / path).write_text("")
    (tmp_path / "recipes/X/hparams/r.yaml").write_text("")
    (tmp_path / "docs/layout.md").write_text("| `jepa_tokenizer/nn/a.py` | a |\n| `hparams/q.yaml` | q |\n")
    assert missing_from_layout(tmp_path) == ["jepa_tokenizer/nn/b.py", "recipes/X/hparams/r.yaml"]


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path):
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, flags=re.M)}


def broken_links(pages=PAGES):
    """``page: target`` of each relative link whose file or heading is missing."""
    broken = []
    for page in pages:
        name = page.relative_to(REPO).as_posix() if page.is_relative_to(REPO) else page.name
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{name}: {target}")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file):
                broken.append(f"{name}: {target} (no such heading)")
    return broken


def test_relative_links_of_the_readmes_and_docs_point_to_what_exists():
    assert broken_links() == []


def test_the_link_check_catches_a_missing_file_and_heading(tmp_path):
    (tmp_path / "a.md").write_text("# A\n\n## In SpeechBrain's DASB benchmark\n")
    page = tmp_path / "b.md"
    page.write_text("[ok](a.md#in-speechbrains-dasb-benchmark) [no](c.md) [no heading](a.md#b) [web](https://x.org)\n")
    assert broken_links([page]) == ["b.md: c.md", "b.md: a.md#b (no such heading)"]
