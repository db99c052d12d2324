"""The migration guide's examples are Python that compiles, and it names what it promises."""

from __future__ import annotations

import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "migration.md"


def test_the_guides_python_blocks_compile() -> None:
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.S)
    assert len(blocks) == 2
    for block in blocks:
        compile(block, str(GUIDE), "exec")


def test_the_guide_covers_both_ancestors_and_is_linked_from_the_readme() -> None:
    text = GUIDE.read_text()
    for heading in ("## webthing-python", "## The thingtalk seed", "### Every difference"):
        assert heading in text
    readme = (GUIDE.parents[1] / "README.md").read_text()
    assert "docs/migration.md" in readme
