"""The fenced code blocks of README.md and docs/*.md, and how the suite runs each one.

The convention (README.md, "Writing docs"): a block is run by the suite according to its
language — `sh` (shell commands), `graphql` (operations against the demo data, or schema
excerpts checked against schema.graphql) — or it names the file it shows with a marker,
or it says why it is not run. An HTML comment on the line just before the fence is its
marker:

    <!-- not run: REASON -->          nothing runs it (REASON must be given)
    <!-- include: examples/FILE -->   the block is that whole file; tests/docs runs the file
    <!-- excerpt: PATH -->            the block's lines appear, in a row, in PATH
    <!-- run as: ROLE -->             a graphql operation run with that demo token
    <!-- run until ready -->          a shell block that starts a server: run in the
                                      background until /readyz answers, then stopped
    <!-- output -->                   a `text` block right after a shell block: what that
                                      block prints, exactly

`text` blocks are output samples and diagrams: never run.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from graphql import (
    DocumentNode,
    ExecutableDefinitionNode,
    FieldDefinitionNode,
    GraphQLSyntaxError,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    OperationDefinitionNode,
    parse,
    print_ast,
)

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
HOW_TO = 'See "Writing docs" in README.md.'

SHELL = {"sh", "shell", "bash"}
OUTPUT = {"text"}
ROLES = {"ADMIN", "MEMBER", "GUEST", "PARTNER"}

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<language>[\w+-]*)\s*$")
_MARKER = re.compile(
    r"^\s*<!--\s*(?P<kind>not run|include|excerpt|run as|run until ready|output)"
    r"\s*(:\s*(?P<value>.*?))?\s*-->\s*$"
)
_ANY_COMMENT = re.compile(r"^\s*<!--.*-->\s*$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    language: str
    text: str  # the block's lines, dedented by the fence's indentation, with a final newline
    marker: str | None  # "not run", "include", "excerpt", "run as"
    value: str  # what follows the marker's colon
    unknown_marker: str | None  # an HTML comment before the fence that is not a marker

    @property
    def where(self) -> str:
        name = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path.name
        return f"{name}:{self.line}"

    def __str__(self) -> str:
        return f"{self.where} (```{self.language or ''})"


def blocks_of(path: Path) -> list[Block]:
    lines = path.read_text().splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        end = index + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        body = [
            line[indent:] if line[:indent].isspace() else line for line in lines[index + 1 : end]
        ]
        previous = index - 1
        while previous >= 0 and not lines[previous].strip():
            previous -= 1
        before = lines[previous] if previous >= 0 else ""
        marker = _MARKER.match(before)
        found.append(
            Block(
                path=path,
                line=index + 1,
                language=opening["language"],
                text="\n".join(body) + "\n",
                marker=marker["kind"] if marker else None,
                value=(marker["value"] or "") if marker else "",
                unknown_marker=before.strip()
                if not marker and _ANY_COMMENT.match(before)
                else None,
            )
        )
        index = end + 1
    return found


def all_blocks() -> list[Block]:
    return [block for path in DOCUMENTS for block in blocks_of(path)]


def graphql_document(block: Block) -> DocumentNode:
    return parse(block.text)


def is_operation(block: Block) -> bool:
    """A graphql block holding one operation (run against the demo data, with the fragments
    it uses), as opposed to a schema excerpt (checked against the schema file)."""
    definitions = graphql_document(block).definitions
    executable = [d for d in definitions if isinstance(d, ExecutableDefinitionNode)]
    if not executable:
        return False
    operations = [d for d in executable if isinstance(d, OperationDefinitionNode)]
    if len(executable) != len(definitions) or len(operations) != 1:
        raise ValueError(
            f"{block}: a graphql block holds one operation (and its fragments) or type "
            f"definitions only. {HOW_TO}"
        )
    return True


def runner_of(block: Block) -> str:
    """How the suite runs this block, or raises ValueError saying what to do."""
    if block.unknown_marker:
        raise ValueError(
            f"{block}: the comment {block.unknown_marker!r} just before it is not a marker "
            "(`<!-- not run: REASON -->`, `<!-- include: examples/FILE -->`, "
            f"`<!-- excerpt: PATH -->`, `<!-- run as: ROLE -->`, `<!-- run until ready -->`, "
            f"`<!-- output -->`). {HOW_TO}"
        )
    if block.marker == "not run":
        if not block.value:
            raise ValueError(
                f"{block}: `<!-- not run: -->` needs a reason after the colon. {HOW_TO}"
            )
        return "not run"
    if block.marker in ("include", "excerpt"):
        target = ROOT / block.value
        if not target.is_file():
            raise ValueError(f"{block}: `<!-- {block.marker}: {block.value} -->` names no file.")
        if block.marker == "include" and target.parent != ROOT / "examples":
            raise ValueError(f"{block}: included programs live in examples/ ({block.value}).")
        return block.marker
    if block.marker == "output":
        before = previous_block(block)
        if block.language not in OUTPUT or before is None or runner_of(before) != "shell":
            raise ValueError(
                f"{block}: `<!-- output -->` goes before a ```text block that follows a shell "
                f"block: what that block prints. {HOW_TO}"
            )
        return "output"
    if block.language in OUTPUT:
        return "output"
    if block.language == "graphql":
        try:
            operation = is_operation(block)
        except GraphQLSyntaxError as error:
            raise ValueError(f"{block}: not valid GraphQL: {error.message}") from None
        if block.marker == "run as" and (not operation or block.value not in ROLES):
            raise ValueError(
                f"{block}: `<!-- run as: ROLE -->` goes before an operation, with ROLE one "
                f"of {sorted(ROLES)}. {HOW_TO}"
            )
        return "graphql operation" if operation else "schema excerpt"
    if block.language in SHELL and block.marker is None:
        return "shell"
    if block.language in SHELL and block.marker == "run until ready":
        return "shell server"
    raise ValueError(
        f"{block}: no test runs this block. Do one of: put the program in examples/, run it "
        "in tests/docs/test_examples.py and write `<!-- include: examples/FILE -->` before "
        "the block; write `<!-- excerpt: PATH -->` if it quotes a file that is tested; tag "
        "output samples ```text; or write `<!-- not run: REASON -->` before it. "
        f"{HOW_TO}"
    )


def previous_block(block: Block) -> Block | None:
    earlier = [other for other in blocks_of(block.path) if other.line < block.line]
    return earlier[-1] if earlier else None


def expected_output(block: Block) -> str | None:
    """The `<!-- output -->` block that follows a shell block, if there is one."""
    later = [other for other in blocks_of(block.path) if other.line > block.line]
    if later and later[0].marker == "output":
        return later[0].text
    return None


def blocks_run_by(runner: str) -> list[Block]:
    return [block for block in all_blocks() if _runner_or_none(block) == runner]


def _runner_or_none(block: Block) -> str | None:
    try:
        return runner_of(block)
    except ValueError:
        return None


def excerpt_lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip("\n").splitlines()]


def quotes(excerpt: str, text: str) -> bool:
    """Whether the excerpt's lines (each stripped) appear in a row among the text's."""
    wanted, lines = excerpt_lines(excerpt), excerpt_lines(text)
    return any(lines[start : start + len(wanted)] == wanted for start in range(len(lines)))


FieldShape = tuple[str, tuple[tuple[str, str], ...]]


def fields_by_type(document: DocumentNode) -> dict[str, dict[str, FieldShape]]:
    """Each object type's fields: their type and arguments, as printed GraphQL."""
    types: dict[str, dict[str, FieldShape]] = {}
    for definition in document.definitions:
        if isinstance(definition, ObjectTypeDefinitionNode | ObjectTypeExtensionNode):
            fields = types.setdefault(definition.name.value, {})
            for field in definition.fields or ():
                fields[field.name.value] = shape(field)
    return types


def shape(field: FieldDefinitionNode) -> FieldShape:
    arguments = tuple(
        (argument.name.value, print_ast(argument.type)) for argument in field.arguments or ()
    )
    return print_ast(field.type), arguments


def schema_excerpt_differences(block: Block, schema: Path) -> list[str]:
    """Every field the excerpt shows that the schema file lacks or types differently."""
    actual = fields_by_type(parse(schema.read_text()))
    differences = []
    for type_name, fields in fields_by_type(graphql_document(block)).items():
        for name, field_shape in fields.items():
            real = actual.get(type_name, {}).get(name)
            if real != field_shape:
                differences.append(
                    f"{type_name}.{name}: the docs say {field_shape}, {schema.name} has {real}"
                )
    return differences
