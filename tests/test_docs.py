"""The README's and the docs' Python snippets run as written; one version string."""

import re
from pathlib import Path

import pytest

import skvae

ROOT = Path(__file__).resolve().parents[1]


def _rst_blocks(text):
    """``.. code-block:: python`` bodies, without those marked needs-cluster."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        if lines[i].strip() != ".. code-block:: python":
            i += 1
            continue
        i += 1
        options = []
        while i < len(lines) and lines[i].strip().startswith(":"):
            options.append(lines[i].strip())
            i += 1
        body = []
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith("   ")):
            body.append(lines[i][3:])
            i += 1
        if ":class: needs-cluster" not in options:
            blocks.append("\n".join(body))
    return blocks


def _snippets():
    readme = (ROOT / "README.md").read_text()
    yield "README.md", re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    for page in sorted((ROOT / "docs").glob("*.rst")):
        blocks = _rst_blocks(page.read_text())
        if blocks:
            yield page.name, blocks


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    "name, blocks", list(_snippets()), ids=[n for n, _ in _snippets()]
)
def test_snippets_run_as_written(name, blocks, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # snippets may write files
    namespace = {}  # the blocks of one page run in order, like a reader's session
    for block in blocks:
        exec(compile(block, name, "exec"), namespace)


def test_one_version_and_a_changelog_that_matches_it():
    changelog = (ROOT / "docs" / "changelog.rst").read_text().splitlines()
    release = skvae.__version__.split(".dev")[0]
    assert changelog[3].split()[0] == release
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert not re.search(r'^version\s*=\s*"', pyproject, re.M)  # read from skvae
