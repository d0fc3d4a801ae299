"""Tab completion and mutt's address lookup, through the real console script: what bash,
zsh and fish receive from `tinycrm __complete`, and the real shells running the scripts
`tinycrm completion show` prints (each skipped, saying so, where that shell is missing)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Runner


def _script() -> str:
    path = shutil.which("tinycrm", path=str(Path(sys.executable).parent))
    assert path, "the tinycrm console script is not installed in this venv"
    return path


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_script(), *args], capture_output=True, text=True, check=False, env=env, timeout=60
    )


@pytest.fixture
def seeded(cli: Runner) -> Runner:
    cli.ok("contact", "add", "Alice Wong", "-e", "alice@acme.com", "--company", "Acme GmbH")
    cli.ok("contact", "add", "Alina Berg", "-e", "alina@berg.io", "-e", "ab@home.example")
    cli.ok("contact", "add", "Bob Stone", "-e", "bob@stone.io", "--tag", "vip", "--tag", "golf")
    cli.ok("company", "add", "Acme Two")
    cli.ok("deal", "add", "alice", "Fleet renewal", "--value", "500")
    cli.ok("remind", "bob", "tomorrow", "send the offer")
    cli.ok("user", "add", "kim", "--email", "kim@team.example")
    return cli


def complete(*args: str) -> list[str]:
    done = _run("__complete", *args)
    assert (done.returncode, done.stderr) == (0, "")
    return done.stdout.splitlines()


# -- the protocol --------------------------------------------------------------------------
def test_bash_receives_quoted_words(seeded: Runner) -> None:
    assert complete("bash", "tinycrm no", "no") == ["note"]
    assert complete("bash", "tinycrm note ali", "ali") == ["Alice\\ Wong", "Alina\\ Berg"]
    assert complete("bash", 'tinycrm note "ali', '"ali') == ['"Alice Wong"', '"Alina Berg"']
    assert complete("bash", "tinycrm note alina@", "alina@") == ["alina@berg.io"]
    # bash splits "company:acme" at the colon: only the part after it is replaced
    assert complete("bash", "tinycrm note company:acme", "acme") == ["Acme\\ GmbH", "Acme\\ Two"]
    assert complete("bash", "tinycrm deal move ", "") == ["1"]
    assert complete("bash", "tinycrm deal move 1 prop", "prop") == ["Proposal"]
    assert complete("bash", "tinycrm contact list --tag ", "") == ["golf", "vip"]
    assert complete("bash", "tinycrm contact list --ta", "--ta") == ["--tag"]
    assert complete("bash", "tinycrm todo --owner ", "") == ["kim", "sam"]
    assert complete("bash", "tinycrm done ", "") == ["1"]
    assert complete("bash", "tinycrm reminder edit ", "") == ["1"]
    assert complete("bash", "tinycrm note alice hi --kind m", "m") == ["meeting"]
    assert complete("bash", "tinycrm goal set k", "k") == ["kim"]
    assert complete("bash", "tinycrm goal set kim 5 --per q", "q") == ["quarter"]
    assert complete("bash", "tinycrm goal set kim 5 --metric w", "w") == ["won-deals"]


def test_zsh_and_fish_receive_values_with_descriptions(seeded: Runner) -> None:
    assert complete("zsh", "note", "Al") == ["Alice Wong:Acme GmbH", "Alina Berg"]
    assert complete("zsh", "deal", "move", "") == ["1:Fleet renewal"]
    assert complete("zsh", "note", "company:") == [
        "company\\:Acme GmbH:company",
        "company\\:Acme Two:company",
    ]
    assert complete("fish", "deal", "move", "") == ["1\tFleet renewal"]
    assert complete("fish", "snooze", "") == ["1\tsend the offer"]
    seeded.ok("note", "bob", "called about prices\nand more")
    assert complete("fish", "interaction", "edit", "") == ["1\tnote: called about prices"]
    assert complete("fish", "contact", "tag", "bob", "v") == ["vip\t1 contacts"]
    assert complete("fish", "--db", os.environ["TINYCRM_DB"], "contact", "show", "bo") == [
        "Bob Stone"
    ]
    assert "mail\timport email" in complete("fish", "")


def test_every_command_has_its_words_for_the_tab() -> None:
    from tinycrm.cli.app import COMMANDS
    from tinycrm.cli.completion import _SUMMARIES

    assert list(_SUMMARIES) == list(COMMANDS)


def test_a_broken_store_completes_nothing_and_says_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "TINYCRM_DB": str(tmp_path / "missing.db")}
    done = _run("__complete", "fish", "note", "al", env=env)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    # nor does a tab create the default store on a machine that has none yet
    env = {**os.environ, "TINYCRM_HOME": str(tmp_path / "fresh")}
    env.pop("TINYCRM_DB", None)
    done = _run("__complete", "bash", "tinycrm note al", "al", env=env)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert not (tmp_path / "fresh").exists()


# -- the real shells -----------------------------------------------------------------------
def _shell(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install {name})")
    return path


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(_script()).parent}{os.pathsep}{os.environ['PATH']}"}


def test_real_bash_runs_the_script(seeded: Runner, tmp_path: Path) -> None:
    bash = _shell("bash")
    script = tmp_path / "tinycrm.bash"
    script.write_text(_run("completion", "show", "bash").stdout)
    line = "tinycrm note company:Ac"
    probe = f"""
source {script}
COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}
COMP_WORDS=(tinycrm note company : Ac); COMP_CWORD=4
_tinycrm_complete
printf '%s\\n' "${{COMPREPLY[@]}}"
complete -p tinycrm
"""
    done = subprocess.run(
        [bash, "--norc", "-c", probe], capture_output=True, text=True, env=_env(), timeout=60
    )
    assert done.stderr == ""
    assert done.stdout.splitlines() == [
        "Acme\\ GmbH",
        "Acme\\ Two",
        "complete -o default -F _tinycrm_complete tinycrm",
    ]


def test_real_zsh_runs_the_script(seeded: Runner, tmp_path: Path) -> None:
    zsh = _shell("zsh")
    script = tmp_path / "_tinycrm"
    script.write_text(_run("completion", "show", "zsh").stdout)
    # _describe and _files are zsh's completion system; record what they are handed
    probe = f"""
_describe() {{ print -rl -- "${{(@P)${{@[-1]}}}}" }}
_files() {{ print -r -- FILES }}
compdef() {{ }}
source {script}
words=(tinycrm deal move ''); CURRENT=4; _tinycrm
words=(tinycrm note 'Ali'); CURRENT=3; _tinycrm
words=(tinycrm import contacts ''); CURRENT=4; _tinycrm
"""
    done = subprocess.run(
        [zsh, "-f", "-c", probe], capture_output=True, text=True, env=_env(), timeout=60
    )
    assert done.stderr == ""
    assert done.stdout.splitlines() == [
        "1:Fleet renewal",
        "Alice Wong:Acme GmbH",
        "Alina Berg",
        "FILES",
    ]


def test_real_fish_completes(seeded: Runner, tmp_path: Path) -> None:
    fish = _shell("fish")
    script = tmp_path / "tinycrm.fish"
    script.write_text(_run("completion", "show", "fish").stdout)
    probe = f"""
source {script}
complete --do-complete 'tinycrm deal move '
complete --do-complete 'tinycrm note Ali'
complete --do-complete 'tinycrm contact list --tag g'
"""
    done = subprocess.run(
        [fish, "--no-config", "-c", probe], capture_output=True, text=True, env=_env(), timeout=60
    )
    assert done.stderr == ""
    assert done.stdout.splitlines() == [
        "1\tFleet renewal",
        "Alice Wong\tAcme GmbH",
        "Alina Berg",
        "golf\t1 contacts",
    ]


def test_completion_install_writes_the_script_where_the_shell_looks(
    cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    out = cli.ok("completion", "install", "fish").stdout
    target = tmp_path / ".config" / "fish" / "completions" / "tinycrm.fish"
    assert out == f"Installed fish completion in {target}\n"
    assert target.read_text() == cli.ok("completion", "show", "fish").stdout
    r = cli("completion", "install", "tcsh")
    assert (r.exit_code, r.stderr) == (2, "Error: shell must be one of bash, zsh, fish: 'tcsh'\n")
    monkeypatch.setenv("SHELL", "/bin/zsh")
    r = cli("completion", "install")
    assert r.exit_code == 0
    assert (tmp_path / ".zfunc" / "_tinycrm").read_text().startswith("#compdef tinycrm")


# -- mutt ----------------------------------------------------------------------------------
def test_contact_query_answers_mutt(seeded: Runner) -> None:
    done = _run("contact", "query", "ali")
    assert done.returncode == 0
    assert done.stdout.splitlines() == [
        "tinycrm: 3 addresses",
        "alina@berg.io\tAlina Berg\t",
        "ab@home.example\tAlina Berg\t",
        "alice@acme.com\tAlice Wong\tAcme GmbH",
    ]
    assert _run("contact", "query", "acme").stdout.splitlines()[1:] == [
        "alice@acme.com\tAlice Wong\tAcme GmbH"
    ]
    assert _run("contact", "query", "alice@ac").stdout.splitlines()[1:] == [
        "alice@acme.com\tAlice Wong\tAcme GmbH"
    ]
    nothing = _run("contact", "query", "zebra")
    assert (nothing.returncode, nothing.stdout, nothing.stderr) == (1, "tinycrm: no matches\n", "")
