"""Every code example of the documentation runs: the fenced blocks of docs/*.md and README.md, extracted here.

How a block runs depends on its info string (GitHub shows only the first word, the language):

- ``python``: executed, in order with the page's other ``python`` blocks, in one module per page, in a test
  with a testing-mode runtime (``dbos_runtime``: the test database, a fake clock, ``drain()``);
- ``python live``: the same, with a real background runtime (threads, dispatcher) in a transactional test;
- ``python settings``: executed alone; the names it sets are applied with ``override_settings`` and must pass
  the system checks;
- ``python test``: the page's test blocks are written to a file and run by pytest, in a subprocess, with the
  ``dbos_django`` plugin, as a user's own test suite runs;
- ``python before``: code of the library a migration guide starts from (Celery, django-q2, DBOS), which is
  not installed here: compiled, so that it is at least valid Python, not run;
- ``sh``, ``console``, ``cron``, ``dockerfile``, ``ini``, ``yaml``: every ``python manage.py ...`` command in it
  is parsed by the real command's parser, every ``make`` target exists in the Makefile, and every
  ``pip install "dbos-django[extra]"`` names an extra of pyproject.toml;
- ``javascript``: checked by ``node --check`` (skipped if Node.js is missing);
- ``text``, ``diff``, ``json``, ``html`` and blocks without a language are output, patches or data, not examples;
  MyST directives (`` ```{toctree} ``) are the site's, not examples.
"""

from __future__ import annotations

import copy
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core import checks
from django.core.management import get_commands, load_command_class
from django.test import override_settings

from tests.conftest import ROOT

PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
SHELL_LANGUAGES = {"sh", "bash", "shell", "console", "cron", "dockerfile", "ini", "yaml"}
NOT_EXAMPLES = {"", "text", "diff", "json", "html"}
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@dataclass
class Block:
    """One fenced block of a page: where it starts, its language and tags, its code."""

    page: Path
    line: int
    language: str
    tags: set[str] = field(default_factory=set)
    code: str = ""

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of a Markdown page, unindented (a block may sit inside a list item)."""
    found: list[Block] = []
    lines = page.read_text().splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        index += 1
        if not opening:
            continue
        indent, fence, info = opening["indent"], opening["fence"], opening["info"].strip()
        words = info.split()
        block = Block(page, index + 1, words[0].lower() if words else "", set(words[1:]))
        body = []
        while index < len(lines) and not lines[index].strip().startswith(fence):
            body.append(lines[index][len(indent) :] if lines[index].startswith(indent) else lines[index].lstrip())
            index += 1
        index += 1
        block.code = "\n".join(body) + "\n"
        found.append(block)
    return found


def of_kind(page: Path, *, language: str | set[str], tags: set[str] | None = None) -> list[Block]:
    languages = {language} if isinstance(language, str) else language
    return [b for b in blocks(page) if b.language in languages and (tags is None or b.tags == tags)]


def pages_with(language: str | set[str], tags: set[str] | None = None) -> list[Any]:
    return [pytest.param(page, id=page.name) for page in PAGES if of_kind(page, language=language, tags=tags)]


def blocks_of(language: str | set[str], tags: set[str] | None = None) -> list[Any]:
    """Every block of these languages (and tags) on every page, as test parameters named by their place."""
    return [pytest.param(block, id=block.where) for page in PAGES
            for block in of_kind(page, language=language, tags=tags)]  # fmt: skip


def run_in_module(page: Path, examples: list[Block]) -> dict[str, Any]:
    """Execute the blocks in order in one module (named for the page), tracebacks pointing into the page."""
    module = types.ModuleType(f"docs_examples.{page.stem.replace('-', '_')}")
    sys.modules[module.__name__] = module
    try:
        for block in examples:
            source = "\n" * (block.line - 1) + block.code  # line numbers of the page in tracebacks
            try:
                exec(compile(source, str(block.page), "exec"), module.__dict__)
            except Exception as exc:
                raise AssertionError(f"the example at {block.where} failed: {exc!r}") from exc
    finally:
        sys.modules.pop(module.__name__, None)
    return module.__dict__


@pytest.mark.django_db
@pytest.mark.urls("example_project.urls")
@pytest.mark.parametrize("page", pages_with("python", set()))
def test_the_python_examples_of_the_page_run(page: Path, dbos_runtime: Any) -> None:
    run_in_module(page, of_kind(page, language="python", tags=set()))


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("example_project.urls")
@pytest.mark.parametrize("page", pages_with("python", {"live"}))
def test_the_live_python_examples_of_the_page_run(page: Path, dbos_live_runtime: Any) -> None:
    run_in_module(page, of_kind(page, language="python", tags={"live"}))


@pytest.mark.parametrize("block", blocks_of("python", {"before"}))
def test_the_code_of_other_libraries_in_migration_guides_is_valid_python(block: Block) -> None:
    compile("\n" * (block.line - 1) + block.code, str(block.page), "exec")


@pytest.mark.parametrize("block", blocks_of("python", {"settings"}))
def test_the_settings_examples_pass_the_system_checks(block: Block) -> None:
    from django.conf import settings

    namespace: dict[str, Any] = {"INSTALLED_APPS": list(settings.INSTALLED_APPS),
                                 "DATABASES": copy.deepcopy(settings.DATABASES)}  # fmt: skip
    exec(compile("\n" * (block.line - 1) + block.code, str(block.page), "exec"), namespace)
    names = {key: value for key, value in namespace.items() if key.isupper()}
    # `[..., "dbos_django"]`: the ellipsis stands for the project's own apps.
    apps = [a for app in names["INSTALLED_APPS"] for a in (settings.INSTALLED_APPS if app is Ellipsis else [app])]
    names["INSTALLED_APPS"] = list(dict.fromkeys(apps))
    changed = {key: value for key, value in names.items() if getattr(settings, key, None) != value}
    with warnings.catch_warnings():
        # Only the checks run under the override: no connection is opened with the changed DATABASES.
        warnings.filterwarnings("ignore", "Overriding setting DATABASES", UserWarning)
        with override_settings(**changed):
            problems = [m for m in checks.run_checks(databases=[]) if m.is_serious()]
    assert not problems, f"{block.where}: {problems}"


@pytest.mark.slow
@pytest.mark.parametrize("page", pages_with("python", {"test"}))
def test_the_test_examples_of_the_page_pass_under_pytest(page: Path, tmp_path: Path) -> None:
    from django.db import connection

    source = "\n\n".join(block.code for block in of_kind(page, language="python", tags={"test"}))
    test_file = tmp_path / f"test_docs_{page.stem.replace('-', '_')}.py"
    test_file.write_text(source)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    if connection.vendor == "postgresql":  # not the test database this session is using
        env["DBOS_TEST_PG_NAME"] = f"{connection.settings_dict['NAME']}_docs"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--rootdir={ROOT}",
               "-c", str(ROOT / "pyproject.toml"), str(test_file)]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"the test examples of {page.name} failed:\n{result.stdout}\n{result.stderr}"


# Shell examples: commands that must exist and parse.

MANAGE = re.compile(r"(?:^|[\s;&|(`])(?:\S*python[\d.]*\s+)?(?:\S*/)?manage\.py\s+(?P<args>[^|;&>\n`]*)")
MAKE = re.compile(r"(?:^|[\s;&|(])make\s+(?P<args>[^|;&>\n]*)")
PIP_EXTRA = re.compile(r"pip install\s+[\"']?dbos-django\[(?P<extras>[^\]]+)\]")


def manage_commands(code: str) -> list[list[str]]:
    joined = code.replace("\\\n", " ")
    return [shlex.split(match["args"].split(" #")[0]) for match in MANAGE.finditer(joined)]


def make_targets(code: str) -> list[tuple[Path, str]]:
    """``(Makefile, target)`` of every make command (``make -C dir target`` reads ``dir/Makefile``)."""
    targets = []
    for match in MAKE.finditer(code.replace("\\\n", " ")):
        words = iter(shlex.split(match["args"].split(" #")[0]))
        makefile = ROOT / "Makefile"
        for word in words:
            if word == "-C":
                makefile = ROOT / next(words) / "Makefile"
            elif "=" not in word and not word.startswith("-"):
                targets.append((makefile, word))
    return targets


@pytest.mark.parametrize("block", blocks_of(SHELL_LANGUAGES))
def test_the_commands_of_the_shell_examples_exist_and_parse(block: Block) -> None:
    commands = get_commands()
    for name, *args in manage_commands(block.code):
        assert name in commands, f"{block.where}: there is no `manage.py {name}` command"
        parser = load_command_class(commands[name], name).create_parser("manage.py", name)
        parser.parse_args(args)  # a CommandError names the bad option
    for makefile, target in make_targets(block.code):
        rules = makefile.read_text()
        assert re.search(rf"^{re.escape(target)}:", rules, re.M), f"{block.where}: {makefile} has no target {target}"
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for match in PIP_EXTRA.finditer(block.code):
        for extra in match["extras"].split(","):
            assert extra.strip() in extras, f"{block.where}: pyproject.toml has no extra {extra!r}"


@pytest.mark.parametrize("block", blocks_of({"javascript", "js"}))
def test_the_javascript_examples_are_valid(block: Block, tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    script = tmp_path / "example.js"
    script.write_text(block.code)
    result = subprocess.run([node, "--check", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, f"{block.where}: {result.stderr}"


KNOWN = {"python", "javascript", "js"} | SHELL_LANGUAGES | NOT_EXAMPLES


def test_every_block_of_the_docs_is_of_a_kind_these_tests_run() -> None:
    unknown = [
        f"{block.where}: ```{block.language} {' '.join(sorted(block.tags))}".rstrip()
        for page in PAGES
        for block in blocks(page)
        if not block.language.startswith("{")
        and (block.language not in KNOWN or block.language == "python" and not block.tags <= {"live"}
             and block.tags not in ({"settings"}, {"test"}, {"before"}))  # fmt: skip
    ]
    assert not unknown, "blocks no docs test runs:\n" + "\n".join(unknown)


def test_every_key_of_the_dbos_setting_is_in_the_configuration_table() -> None:
    from dbos_django.conf import DEFAULTS

    table = (ROOT / "docs" / "configuration.md").read_text()
    assert [key for key in DEFAULTS if f"| `{key}` |" not in table] == []


def test_every_page_of_the_docs_is_in_the_sites_table_of_contents() -> None:
    index = (ROOT / "docs" / "index.md").read_text()
    pages = [page.stem for page in PAGES if page.parent.name == "docs" and page.stem != "index"]
    assert [page for page in pages if f"\n{page}\n" not in index] == []


@pytest.mark.slow
def test_the_docs_site_builds_without_a_warning(tmp_path: Path) -> None:
    pytest.importorskip("myst_parser", reason="the docs extra is not installed: pip install -e '.[docs]'")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(ROOT / "docs"),
               str(tmp_path / "html")]  # fmt: skip
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "html" / "reference.html").read_text().count('class="sig-name descname"') > 100


def test_the_parser_finds_the_blocks_of_a_page_and_their_lines(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n```python settings\nDBOS = {}\n```\n\n- item\n  ```sh\n  make demo\n  ```\n")
    found = blocks(page)
    assert [(b.line, b.language, b.tags, b.code) for b in found] == [
        (4, "python", {"settings"}, "DBOS = {}\n"),
        (9, "sh", set(), "make demo\n"),
    ]


def test_a_shell_example_with_an_unknown_option_is_caught() -> None:
    from django.core.management import CommandError

    block = Block(ROOT / "README.md", 1, "sh", code="python manage.py dbos_worker --no-such-option\n")
    with pytest.raises(CommandError, match="no-such-option"):
        test_the_commands_of_the_shell_examples_exist_and_parse(block)
