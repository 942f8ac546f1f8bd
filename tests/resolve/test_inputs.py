"""Requirement inputs: PEP 508 strings, pip requirements files, pyproject.toml; their errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement

from resolve.inputs.collect import collect_inputs, parse_requirement_files
from resolve.inputs.pyproject import parse_pyproject, parse_pyproject_text
from resolve.inputs.reqfile import parse_requirements_file, parse_requirements_text
from resolve.inputs.requirements import (
    COMMAND_LINE,
    InputError,
    ParsedInputs,
    ReportedOption,
    RequirementSource,
    parse_requirement,
)
from resolve.limits import Limits

NO_ENV: dict[str, str] = {}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def names(requirements: tuple[object, ...]) -> list[str]:
    return [str(r) for r in requirements]


def error_of(text: str, tmp_path: Path, *, constraint: bool = False) -> InputError:
    path = write(tmp_path / "requirements.in", text)
    with pytest.raises(InputError) as info:
        parse_requirements_file(path, constraint=constraint, environ=NO_ENV)
    return info.value


# -- requirement strings -----------------------------------------------------------------------


def test_parse_requirement_keeps_source_and_hashes() -> None:
    source = RequirementSource(Path("r.txt"), 4)
    parsed = parse_requirement('Foo[bar]>=1; python_version<"3.13"', source, hashes=["sha256:ab"])
    assert parsed.requirement.name == "Foo"
    assert parsed.requirement.extras == {"bar"}
    assert parsed.source == source
    assert parsed.hashes == ("sha256:ab",)
    assert str(parsed.source) == "r.txt:4"
    assert str(COMMAND_LINE) == "command line"


def test_invalid_requirement_renders_caret_under_the_token() -> None:
    with pytest.raises(InvalidRequirement) as packaging_error:
        Requirement("foo>=>1")
    with pytest.raises(InputError) as info:
        parse_requirement("foo>=>1")
    error = info.value
    assert (error.path, error.line, error.column, error.token) == (None, None, 4, ">=>1")
    assert error.render() == "\n".join(
        [
            "invalid requirement 'foo>=>1'",
            "    foo>=>1",
            "       ^^^^",
            str(packaging_error.value).splitlines()[0],  # packaging's message, reused
        ]
    )
    assert str(error) == error.render()


def test_invalid_requirement_in_file_names_file_and_line(tmp_path: Path) -> None:
    error = error_of("# header\nrequests\n\nfoo>=>1\n", tmp_path)
    assert error.path == tmp_path / "requirements.in"
    assert error.line == 4
    lines = error.render().splitlines()
    assert lines[0] == f"{tmp_path / 'requirements.in'}:4: invalid requirement 'foo>=>1'"
    assert lines[1:3] == ["    foo>=>1", "       ^^^^"]
    assert lines[3].startswith("Expected")  # packaging's own message


def test_marker_error_points_into_the_marker() -> None:
    with pytest.raises(InputError) as info:
        parse_requirement('foo; python_version >= "3" and bogus == "1"')
    error = info.value
    assert error.column is not None
    assert error.token == "bogus"
    assert error.render().splitlines()[2].index("^") == 4 + error.column - 1


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("./vendor/pkg", "local path"),
        ("/abs/path/pkg-1.0.tar.gz", "local path"),
        ("pkg-1.0-py3-none-any.whl", "local path"),
        ("https://index.example/files/pkg-1.0.tar.gz", "URL"),
        ("git+https://index.example/repo.git", "URL"),
        ("pkg @ https://index.example/files/pkg-1.0.tar.gz", "direct reference"),
    ],
)
def test_urls_and_paths_are_not_supported_offline(text: str, kind: str) -> None:
    with pytest.raises(InputError) as info:
        parse_requirement(text)
    assert info.value.message.startswith(kind)
    assert "not supported offline" in info.value.message
    assert info.value.detail is not None


# -- requirements files ------------------------------------------------------------------------


def test_requirements_file_full_syntax(tmp_path: Path) -> None:
    path = write(
        tmp_path / "requirements.in",
        r"""
        # a comment line
        --index-url ${INDEX}
        --extra-index-url=https://other.example/simple/
        -f ./wheels
        --pre
        --only-binary :all:
        --no-binary foo --trusted-host other.example

        requests>=2.31 \
            --hash=sha256:aaaa \
            --hash sha256:bbbb   # pip-compile writes hashes like this
        idna ; python_version >= "3.8"  # trailing comment
        """,
    )
    parsed = parse_requirements_file(path, environ={"INDEX": "https://index.example/simple/"})
    assert names(parsed.requirements)[:2] == ["requests>=2.31", 'idna; python_version >= "3.8"']
    requests = parsed.requirements[0]
    assert requests.hashes == ("sha256:aaaa", "sha256:bbbb")
    assert requests.source == RequirementSource(path, 9)
    assert parsed.requirements[1].source.line == 12
    assert [(o.name, o.value, o.source.line) for o in parsed.options] == [
        ("--index-url", "https://index.example/simple/", 2),
        ("--extra-index-url", "https://other.example/simple/", 3),
        ("--find-links", "./wheels", 4),
        ("--pre", None, 5),
        ("--only-binary", ":all:", 6),
        ("--no-binary", "foo", 7),
        ("--trusted-host", "other.example", 7),
    ]
    assert parsed.constraints == ()


def test_hash_like_text_after_hash_sign_without_space_is_not_a_comment(tmp_path: Path) -> None:
    error = error_of("urllib3==2.0#frag\n", tmp_path)
    assert "invalid requirement" in error.message


def test_continuation_joins_lines_and_reports_the_first(tmp_path: Path) -> None:
    path = write(tmp_path / "r.txt", "a\\\nb>=1\nc \\\n  ==2\n# comment \\\nd\n")
    parsed = parse_requirements_file(path, environ=NO_ENV)
    # "a\" + "b>=1" is one requirement "ab>=1"; a comment line never continues.
    assert names(parsed.requirements) == ["ab>=1", "c==2", "d"]
    assert [r.source.line for r in parsed.requirements] == [1, 3, 6]


def test_backslash_on_the_last_line(tmp_path: Path) -> None:
    path = write(tmp_path / "r.txt", "six \\")
    assert names(parse_requirements_file(path, environ=NO_ENV).requirements) == ["six"]


def test_environment_variables_expand_like_pip(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.txt",
        """
        ${NAME}==${VERSION}
        -r ${DIR}/more.txt
        """,
    )
    write(tmp_path / "sub" / "more.txt", "other\n")
    parsed = parse_requirements_file(
        path, environ={"NAME": "attrs", "VERSION": "23.1", "DIR": "sub", "lower": "x"}
    )
    assert names(parsed.requirements) == ["attrs==23.1", "other"]


def test_unset_and_lowercase_variables_stay_as_written(tmp_path: Path) -> None:
    path = write(tmp_path / "r.txt", "--index-url https://${USER_TOKEN}@index.example/${lower}\n")
    parsed = parse_requirements_file(path, environ={"USER_TOKEN": "", "lower": "x"})
    assert parsed.options[0].value == "https://${USER_TOKEN}@index.example/${lower}"


def test_error_on_an_expanded_line_shows_the_line_as_written(tmp_path: Path) -> None:
    path = write(tmp_path / "r.txt", "${NAME}>=>1\n")
    with pytest.raises(InputError) as info:
        parse_requirements_file(path, environ={"NAME": "foo"})
    assert info.value.render().splitlines()[:3] == [
        f"{path}:1: invalid requirement '${{NAME}}>=>1'",
        "    ${NAME}>=>1",
        "           ^^^^",
    ]


def test_expanded_values_stay_out_of_errors(tmp_path: Path) -> None:
    path = write(tmp_path / "r.txt", "foo==${SECRET}\n")
    with pytest.raises(InputError) as info:
        parse_requirements_file(path, environ={"SECRET": "hunter2"})
    rendered = info.value.render()
    assert "hunter2" not in rendered
    assert info.value.token is None
    assert rendered.splitlines()[1] == "    foo==${SECRET}"


def test_nested_requirements_and_constraints(tmp_path: Path) -> None:
    top = write(
        tmp_path / "requirements.in",
        """
        -r base/base.in
        --constraint constraints.txt
        flask
        """,
    )
    write(tmp_path / "base" / "base.in", "-r ../common.in\nclick\n")  # relative to base/
    write(tmp_path / "common.in", "rich\n")
    write(tmp_path / "constraints.txt", "-r more-constraints.txt\nclick<9\n")
    write(tmp_path / "more-constraints.txt", "rich==13.*\n")
    parsed = parse_requirements_file(top, environ=NO_ENV)
    assert names(parsed.requirements) == ["rich", "click", "flask"]
    # -r inside a constraints file includes constraints (uv's reading).
    assert names(parsed.constraints) == ["rich==13.*", "click<9"]
    assert parsed.requirements[0].source == RequirementSource(tmp_path / "base/../common.in", 1)
    assert parsed.constraints[0].source.path == tmp_path / "more-constraints.txt"


def test_constraint_file_entry_point(tmp_path: Path) -> None:
    path = write(tmp_path / "c.txt", "click<9\n--pre\n")
    parsed = parse_requirements_file(path, constraint=True, environ=NO_ENV)
    assert parsed.requirements == ()
    assert names(parsed.constraints) == ["click<9"]
    assert parsed.options == (ReportedOption("--pre", None, RequirementSource(path, 2)),)


def test_the_same_file_twice_is_not_a_cycle_and_is_read_once(tmp_path: Path) -> None:
    top = write(tmp_path / "r.txt", "-r a.txt\n-r a.txt\n-c a.txt\n")
    write(tmp_path / "a.txt", "six\n")
    parsed = parse_requirements_file(top, environ=NO_ENV)
    assert names(parsed.requirements) == ["six"]
    assert names(parsed.constraints) == ["six"]  # read again: as constraints, it is new


def test_files_that_each_include_the_next_twice_are_read_once_each(tmp_path: Path) -> None:
    # Read as written, 40 levels of "include the next file twice" would be 2**40 reads.
    for level in range(40):
        write(tmp_path / f"f{level}.txt", f"-r f{level + 1}.txt\n-r f{level + 1}.txt\n")
    write(tmp_path / "f40.txt", "six\n")
    limits = Limits(requirements_depth=40)
    parsed = parse_requirements_file(tmp_path / "f0.txt", environ=NO_ENV, limits=limits)
    assert names(parsed.requirements) == ["six"]


def test_include_cycle(tmp_path: Path) -> None:
    top = write(tmp_path / "a.txt", "six\n-r b.txt\n")
    write(tmp_path / "b.txt", "-c ./a.txt\n")
    with pytest.raises(InputError) as info:
        parse_requirements_file(top, environ=NO_ENV)
    error = info.value
    assert error.path == tmp_path / "b.txt"
    assert error.line == 1
    assert "includes itself" in error.message
    assert "a.txt -> " in error.message
    assert error.render().splitlines()[1:] == ["    -c ./a.txt", "    ^^^^^^^^^^"]


def test_self_include(tmp_path: Path) -> None:
    error = error_of("-r requirements.in\n", tmp_path)
    assert "includes itself" in error.message


def test_missing_nested_file_points_at_the_include(tmp_path: Path) -> None:
    error = error_of("six\n--requirement=missing.txt\n", tmp_path)
    assert error.line == 2
    assert "missing.txt" in error.message
    assert "No such file" in error.message
    assert error.render().splitlines()[1:] == [
        "    --requirement=missing.txt",
        "    ^^^^^^^^^^^^^^^^^^^^^^^^^",
    ]


def test_missing_top_level_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        parse_requirements_file(tmp_path / "nope.txt")
    assert info.value.path == tmp_path / "nope.txt"
    assert "nope.txt" in info.value.render()


@pytest.mark.parametrize(
    ("text", "message", "token"),
    [
        ("--frobnicate\n", "unknown option '--frobnicate'", "--frobnicate"),
        ("-x foo\n", "unknown option '-x'", "-x"),
        ("six --pre\n", "option --pre cannot follow a requirement", "--pre"),
        ("--hash=sha256:abc\n", "option --hash must follow a requirement", "--hash=sha256:abc"),
        ("six --hash=md5:abc\n", "hash algorithm 'md5' is not allowed", "--hash=md5:abc"),
        ("six --hash=abc\n", "--hash needs a hash name and a value", "--hash=abc"),
        ("--index-url\n", "option --index-url needs a value", "--index-url"),
        ("--pre=yes\n", "option --pre takes no value", "--pre=yes"),
        ("-r a.txt b.txt\n", "unexpected argument 'b.txt'", "b.txt"),
        ("-e ./src/pkg\n", "editable requirement '-e ./src/pkg' is not supported", "-e ./src/pkg"),
        ("-r https://index.example/r.txt\n", "over the network is not supported", None),
        ("./local/pkg\n", "local path './local/pkg' is not supported offline", "./local/pkg"),
        ("--index-url 'unclosed\n", "cannot split options", "--index-url"),
    ],
)
def test_line_errors(tmp_path: Path, text: str, message: str, token: str | None) -> None:
    error = error_of(text, tmp_path)
    assert message in error.message
    assert error.line == 1
    if token is not None:
        assert error.token == token
        caret = error.render().splitlines()[2]
        assert caret.strip() == "^" * len(token)
        assert caret.index("^") - 4 == text.index(token)


def test_unique_option_prefix_is_accepted_like_optparse(tmp_path: Path) -> None:
    path = write(tmp_path / "r.txt", "--extra-index https://index.example/simple/\n")
    parsed = parse_requirements_file(path, environ=NO_ENV)
    assert parsed.options[0].name == "--extra-index-url"


def test_short_options_with_attached_values(tmp_path: Path) -> None:
    path = write(tmp_path / "r.txt", "-ihttps://index.example/simple/\n-rother.txt\n")
    write(tmp_path / "other.txt", "six\n")
    parsed = parse_requirements_file(path, environ=NO_ENV)
    assert parsed.options[0] == ReportedOption(
        "--index-url", "https://index.example/simple/", RequirementSource(path, 1)
    )
    assert names(parsed.requirements) == ["six"]


def test_per_requirement_build_options_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "r.txt", "six --config-settings key=value\n")
    parsed = parse_requirements_file(path, environ=NO_ENV)
    assert names(parsed.requirements) == ["six"]
    assert parsed.options[0].name == "--config-settings"
    assert parsed.options[0].value == "key=value"


def test_constraints_cannot_have_extras(tmp_path: Path) -> None:
    error = error_of("six\nrequests[socks]>=2\n", tmp_path, constraint=True)
    assert error.message == "constraints cannot have extras"
    assert error.line == 2
    assert error.token == "[socks]"
    assert error.detail is not None
    assert "requests>=2" in error.detail


def test_byte_order_mark_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_bytes(b"\xef\xbb\xbfsix\r\nattrs \\\r\n  >=23\r\n")
    assert names(parse_requirements_file(path, environ=NO_ENV).requirements) == ["six", "attrs>=23"]


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_bytes(b"six\n\xc3\x28\n")
    with pytest.raises(InputError, match="UTF-8"):
        parse_requirements_file(path, environ=NO_ENV)


def test_parse_requirements_text_resolves_includes_next_to_path(tmp_path: Path) -> None:
    write(tmp_path / "base.txt", "six\n")
    parsed = parse_requirements_text("-r base.txt\nattrs\n", tmp_path / "virtual.in", environ={})
    assert names(parsed.requirements) == ["six", "attrs"]


# -- pyproject.toml ----------------------------------------------------------------------------

PYPROJECT = """
[project]
name = "My.Project"
version = "1.0"
dependencies = [
    "requests>=2",
    'click; python_version >= "3.8"',
]

[project.optional-dependencies]
Socks = ["pysocks"]
test = ["pytest>=8", "my-project[socks]"]
all = ["my_project[test] ; sys_platform == 'linux'"]

[dependency-groups]
lint = ["ruff"]
typing = ["mypy", {include-group = "lint"}]
Dev = [{include-group = "typing"}, "hypothesis"]
"""


def test_pyproject_dependencies(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", PYPROJECT)
    parsed = parse_pyproject(path)
    assert names(parsed.requirements) == ["requests>=2", 'click; python_version >= "3.8"']
    assert parsed.requirements[0].source == RequirementSource(path, 5, "project.dependencies")
    assert parsed.requirements[1].source.line == 6
    assert parsed.constraints == ()
    assert parsed.options == ()


def test_pyproject_extras_by_normalised_name(tmp_path: Path) -> None:
    parsed = parse_pyproject_text(PYPROJECT, tmp_path / "pyproject.toml", extras=["SOCKS"])
    assert names(parsed.requirements)[-1] == "pysocks"
    assert parsed.requirements[-1].source.section == "project.optional-dependencies.Socks"
    assert parsed.requirements[-1].source.line == 11


def test_pyproject_self_referencing_extras_expand_with_markers(tmp_path: Path) -> None:
    parsed = parse_pyproject_text(
        PYPROJECT, tmp_path / "pyproject.toml", extras=["all"], dependencies=False
    )
    linux = Marker("sys_platform == 'linux'")
    found = {r.requirement.name: r.requirement.marker for r in parsed.requirements}
    assert set(found) == {"requests", "click", "pytest", "pysocks"}
    assert found["pytest"] == linux
    assert found["click"] == Marker('(python_version >= "3.8") and (sys_platform == "linux")')
    assert all("my" not in r.requirement.name for r in parsed.requirements)


def test_self_referencing_extra_cycle_terminates(tmp_path: Path) -> None:
    text = """
    [project]
    name = "me"
    version = "1"
    [project.optional-dependencies]
    a = ["me[b]", "six"]
    b = ["me[a]", "attrs"]
    """
    parsed = parse_pyproject_text(textwrap.dedent(text), tmp_path / "pyproject.toml", extras=["a"])
    assert sorted(names(parsed.requirements)) == ["attrs", "six"]


def test_pyproject_groups_with_includes(tmp_path: Path) -> None:
    parsed = parse_pyproject_text(
        PYPROJECT, tmp_path / "pyproject.toml", groups=["dev"], dependencies=False
    )
    assert names(parsed.requirements) == ["mypy", "ruff", "hypothesis"]
    assert [r.source.section for r in parsed.requirements] == [
        "dependency-groups.typing",
        "dependency-groups.lint",
        "dependency-groups.Dev",
    ]


def test_groups_without_a_project_table(tmp_path: Path) -> None:
    text = '[dependency-groups]\ndocs = ["sphinx"]\n'
    parsed = parse_pyproject_text(text, tmp_path / "pyproject.toml", groups=["docs"])
    assert names(parsed.requirements) == ["sphinx"]


def test_include_group_cycle(tmp_path: Path) -> None:
    text = """
    [dependency-groups]
    a = ["six", {include-group = "b"}]
    b = [{include-group = "c"}]
    c = [{include-group = "A"}]
    """
    with pytest.raises(InputError) as info:
        parse_pyproject_text(textwrap.dedent(text), tmp_path / "pyproject.toml", groups=["a"])
    assert info.value.message == "dependency group cycle: a -> b -> c -> a"


def test_unknown_extra(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        parse_pyproject_text(PYPROJECT, tmp_path / "pyproject.toml", extras=["nope"])
    assert "extra 'nope' is not defined" in info.value.message
    assert info.value.detail == "defined extras: Socks, all, test"


def test_unknown_group(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        parse_pyproject_text(PYPROJECT, tmp_path / "pyproject.toml", groups=["nope"])
    assert "dependency group 'nope' is not defined" in info.value.message
    assert info.value.detail == "defined groups: Dev, lint, typing"


def test_unknown_included_group(tmp_path: Path) -> None:
    text = '[dependency-groups]\na = [{include-group = "missing"}]\n'
    with pytest.raises(InputError, match="included from group 'a'"):
        parse_pyproject_text(text, tmp_path / "pyproject.toml", groups=["a"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[dependency-groups]\na = [{include = "b"}]\n', "invalid entry"),
        ("[dependency-groups]\na = [{include-group = 3}]\n", "include-group must be a string"),
        ('[dependency-groups]\na = "six"\n', "must be a list"),
        ('[dependency-groups]\na_b = ["x"]\nA-B = ["y"]\n', "have the same name"),
        ('[project]\nname = "p"\ndependencies = "six"\n', "must be a list of strings"),
        (
            '[project]\nname = "p"\ndynamic = ["dependencies"]\n',
            "[project] dependencies are dynamic",
        ),
    ],
)
def test_invalid_pyproject_shapes(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_pyproject_text(text, tmp_path / "pyproject.toml", groups=["a"])
    assert message in info.value.message


def test_invalid_requirement_in_pyproject_points_into_the_toml_line(tmp_path: Path) -> None:
    text = '[project]\nname = "p"\ndependencies = [\n    "six",\n    "foo>=>1",\n]\n'
    path = write(tmp_path / "pyproject.toml", text)
    with pytest.raises(InputError) as info:
        parse_pyproject(path)
    lines = info.value.render().splitlines()
    assert lines[0] == f"{path}:5: invalid requirement 'foo>=>1'"
    assert lines[1] == '        "foo>=>1",'
    assert lines[2] == " " * 12 + "^^^^"  # under ">=>1"
    assert lines[1][12:16] == ">=>1"


def test_invalid_toml_names_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml", '[project]\nname = "p"\ndependencies = [\n  "six" "x"\n]\n'
    )
    with pytest.raises(InputError) as info:
        parse_pyproject(path)
    assert info.value.message.startswith("invalid TOML")
    assert info.value.line == 4
    assert info.value.render().startswith(f"{path}:4: invalid TOML")


# -- collect_inputs ----------------------------------------------------------------------------


def test_collect_inputs_in_command_line_order(tmp_path: Path) -> None:
    reqs = write(tmp_path / "requirements.in", "--pre\nattrs\n")
    cons = write(tmp_path / "constraints.txt", "attrs<24\n")
    pyproject = write(tmp_path / "pyproject.toml", PYPROJECT)
    parsed = collect_inputs(
        ["six>=1"],
        [reqs, pyproject],
        [cons],
        extras=["socks"],
        groups=["lint"],
        environ=NO_ENV,
    )
    assert names(parsed.requirements) == [
        "six>=1",
        "attrs",
        "requests>=2",
        'click; python_version >= "3.8"',
        "pysocks",
        "ruff",
    ]
    assert parsed.requirements[0].source == COMMAND_LINE
    assert names(parsed.constraints) == ["attrs<24"]
    assert [o.name for o in parsed.options] == ["--pre"]


def test_pyproject_as_constraints(tmp_path: Path) -> None:
    pyproject = write(tmp_path / "sub" / "pyproject.toml", PYPROJECT)
    parsed = collect_inputs(constraint_files=[pyproject])
    assert parsed.requirements == ()
    assert names(parsed.constraints)[0] == "requests>=2"


def test_extras_need_a_pyproject(tmp_path: Path) -> None:
    reqs = write(tmp_path / "requirements.in", "six\n")
    with pytest.raises(InputError, match=r"needs a pyproject\.toml"):
        collect_inputs(requirement_files=[reqs], extras=["x"], environ=NO_ENV)


def test_collect_inputs_reports_command_line_errors() -> None:
    with pytest.raises(InputError) as info:
        collect_inputs(["ok", "bad>=>1"])
    assert info.value.path is None
    assert info.value.render().startswith("invalid requirement 'bad>=>1'\n    bad>=>1\n")


def test_concat_keeps_order() -> None:
    a = ParsedInputs((parse_requirement("a"),), (parse_requirement("c"),))
    b = ParsedInputs((parse_requirement("b"),))
    both = ParsedInputs.concat([a, b])
    assert names(both.requirements) == ["a", "b"]
    assert names(both.constraints) == ["c"]


def test_parse_requirement_files_concatenates(tmp_path: Path) -> None:
    a = write(tmp_path / "a.txt", "six\n--pre\n")
    b = write(tmp_path / "b.txt", "attrs\n")
    parsed = parse_requirement_files([a, b], environ=NO_ENV)
    assert names(parsed.requirements) == ["six", "attrs"]
    assert [o.text for o in parsed.options] == ["--pre"]
    constraints = parse_requirement_files([b], constraint=True, environ=NO_ENV)
    assert names(constraints.constraints) == ["attrs"]


def test_reported_option_text() -> None:
    source = RequirementSource(Path("r.txt"), 1)
    assert ReportedOption("--index-url", "https://index.example/simple/", source).text == (
        "--index-url https://index.example/simple/"
    )
