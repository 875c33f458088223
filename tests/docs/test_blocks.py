"""Every fenced block of README.md and docs/*.md is run by the suite or says why not, and
the blocks that show a file show it as it is."""

from pathlib import Path

import pytest

from tests.docs.blocks import (
    DOCUMENTS,
    HOW_TO,
    ROOT,
    Block,
    all_blocks,
    blocks_of,
    blocks_run_by,
    quotes,
    runner_of,
    schema_excerpt_differences,
)
from tests.docs.test_examples import RUN_HERE


def test_every_block_is_run_or_says_why_not() -> None:
    problems = []
    for block in all_blocks():
        try:
            runner_of(block)
        except ValueError as problem:
            problems.append(str(problem))
    assert not problems, "\n\n".join(problems)


def test_the_documents_have_blocks() -> None:
    # A parser that found nothing would make every other test here pass vacuously.
    counts = {path.name: len(blocks_of(path)) for path in DOCUMENTS}
    assert counts["README.md"] >= 10 and counts["live-updates.md"] >= 4, counts


@pytest.mark.parametrize("block", blocks_run_by("include"), ids=str)
def test_an_included_program_is_the_file_and_the_suite_runs_it(block: Block) -> None:
    assert block.value in RUN_HERE, (
        f"{block}: {block.value} is included but tests/docs/test_examples.py does not run it "
        f"(add it to RUN_HERE with a test). {HOW_TO}"
    )
    assert block.text == (ROOT / block.value).read_text(), (
        f"{block} differs from {block.value}: the block must be the whole file, verbatim. "
        f"Edit the file, then copy it into the block. {HOW_TO}"
    )


@pytest.mark.parametrize("block", blocks_run_by("excerpt"), ids=str)
def test_an_excerpt_quotes_its_file(block: Block) -> None:
    target = ROOT / block.value
    if block.language == "graphql":
        assert schema_excerpt_differences(block, target) == [], block
    else:
        assert quotes(block.text, target.read_text()), (
            f"{block}: these lines do not appear, in a row, in {block.value} (leading and "
            f"trailing spaces aside). Copy them from the file again. {HOW_TO}"
        )


@pytest.mark.parametrize("block", blocks_run_by("schema excerpt"), ids=str)
def test_a_schema_excerpt_matches_the_schema(block: Block) -> None:
    differences = schema_excerpt_differences(block, ROOT / "schema.graphql")
    assert differences == [], f"{block} disagrees with schema.graphql:\n" + "\n".join(differences)


def test_the_checks_refuse_what_they_should(tmp_path: Path) -> None:
    """The convention's refusals, on a document written for the purpose."""
    page = tmp_path / "page.md"
    page.write_text(
        "```js\nconsole.log(1)\n```\n\n"
        "<!-- not run: -->\n```sh\nrm -rf /\n```\n\n"
        "<!-- not run because -->\n```sh\ntrue\n```\n\n"
        "<!-- not run: needs a Docker engine -->\n```sh\ndocker compose up\n```\n\n"
        "  ```text\n  output\n  ```\n\n"
        "<!-- run until ready -->\n```sh\nscripts/demo\n```\n\n"
        "<!-- output -->\n```text\nwhat scripts/demo prints\n```\n\n"
        "```graphql\n{ viewer { role } }\ntype Query { viewer: Viewer! }\n```\n"
    )
    blocks = blocks_of(page)
    assert [(block.line, block.language, block.marker) for block in blocks] == [
        (1, "js", None),
        (6, "sh", "not run"),
        (11, "sh", None),
        (16, "sh", "not run"),
        (20, "text", None),
        (25, "sh", "run until ready"),
        (30, "text", "output"),
        (34, "graphql", None),
    ]
    refusals = []
    for block in [*blocks[:3], *blocks[6:]]:
        with pytest.raises(ValueError) as refused:
            runner_of(block)
        refusals.append(str(refused.value))
    assert refusals == [
        "page.md:1 (```js): no test runs this block. Do one of: put the program in examples/, "
        "run it in tests/docs/test_examples.py and write `<!-- include: examples/FILE -->` "
        "before the block; write `<!-- excerpt: PATH -->` if it quotes a file that is tested; "
        "tag output samples ```text; or write `<!-- not run: REASON -->` before it. "
        'See "Writing docs" in README.md.',
        "page.md:6 (```sh): `<!-- not run: -->` needs a reason after the colon. "
        'See "Writing docs" in README.md.',
        "page.md:11 (```sh): the comment '<!-- not run because -->' just before it is not a "
        "marker (`<!-- not run: REASON -->`, `<!-- include: examples/FILE -->`, "
        "`<!-- excerpt: PATH -->`, `<!-- run as: ROLE -->`, `<!-- run until ready -->`, "
        '`<!-- output -->`). See "Writing docs" in README.md.',
        "page.md:30 (```text): `<!-- output -->` goes before a ```text block that follows a "
        'shell block: what that block prints. See "Writing docs" in README.md.',
        "page.md:34 (```graphql): a graphql block holds one operation (and its fragments) or "
        'type definitions only. See "Writing docs" in README.md.',
    ]
    assert [runner_of(block) for block in blocks[3:6]] == ["not run", "output", "shell server"]
    assert blocks[4].text == "output\n"
