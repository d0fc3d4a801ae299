"""Tab completion for bash, zsh and fish: `tinycrm completion install|show`, and the
hidden `tinycrm __complete SHELL ...` the shell scripts call on every tab.

A tab must answer faster than a person types, so `__complete` never builds the whole
command tree (`cli/entry.py` sends it here before Typer runs): it registers only the
command being typed (as `app.build_app` does for a real run), lets the vendored Click
parser say which parameter the cursor is on, and answers commands and options from that
tree and values (contacts and companies, deal and reminder ids with their titles, users,
tags, stages) from the store through `services.lookup`, with indexed prefix reads.

The protocol (tests/cli/test_completion.py checks what each shell receives):
- `tinycrm __complete bash LINE CUR`: LINE is the command line up to the cursor, CUR the
  word bash will replace (bash splits words at ':' too); prints one shell-quoted
  replacement per line.
- `tinycrm __complete zsh|fish WORD... INCOMPLETE`: the words after `tinycrm` and the one
  under the cursor (unquoted); prints `value:description` (zsh's `_describe`, ':' in the
  value escaped) or `value<TAB>description` (fish) per line.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

SHELLS = ("bash", "zsh", "fish")

#: Parameters whose values come from the store, by the parameter's name, and by command
#: (its path after `tinycrm`) where the same name means something else there.
VALUE_KINDS: dict[str, str] = {
    "ref": "ref",
    "a": "contact",
    "b": "contact",
    "company": "company",
    "tag": "tag",
    "tags": "tag",
    "owner": "user",
    "user": "user",
    "lead": "user",
    "stage": "stage",
    "view": "view",
    "ids": "reminder",
    "reminder_id": "reminder",
}
BY_COMMAND: dict[tuple[str, str], str] = {
    **{(f"deal {c}", "ref"): "deal" for c in ("show", "edit", "move", "rm", "won", "lost")},
    **{(f"company {c}", "ref"): "company" for c in ("show", "edit", "rm")},
    **{(f"contact {c}", "ref"): "contact" for c in ("show", "edit", "rm", "tag")},
    **{(f"stages {c}", "name"): "stage" for c in ("edit", "rm")},
    ("user edit", "name"): "user",
    ("reminder edit", "ident"): "reminder",
    ("reminder rm", "ident"): "reminder",
    ("interaction edit", "ident"): "interaction",
    ("interaction rm", "ident"): "interaction",
    ("tag cadence", "tag"): "tag",
    ("view rm", "name"): "view",
    **{(f"deal item {c}", "ref"): "deal" for c in ("add", "edit", "rm")},
    ("deal item add", "product"): "product",
    ("purchase add", "product"): "product",
    ("purchase edit", "product"): "product",
    **{(f"product {c}", "ref"): "product" for c in ("show", "edit", "rm")},
    **{(f"quote {c}", "ref"): "deal" for c in ("new", "list")},
}
STATIC: dict[str, tuple[str, ...]] = {
    "kind": ("note", "call", "email", "meeting"),
    "per": ("month", "quarter", "year"),  # goal set
    "metric": ("revenue", "won-deals", "activities"),  # goal set
    "entity": ("contact", "company", "deal"),  # `field ...`
    "type_": ("text", "number", "money", "date", "choice", "bool"),  # `field add --type`
    "of": ("contacts", "deals", "companies"),  # view save, view list
}
#: Parameters that name a custom field, by command: `--set NAME=`, `--unset NAME`, and the
#: NAME of `field edit|rm ENTITY NAME` (whose entity is the word before).
FIELD_PARAMS = {"set_", "unset"}


# -- answering a tab ------------------------------------------------------------------------------
def run(argv: list[str]) -> int:
    """`tinycrm __complete SHELL ...`: print the candidates; never an error on stderr (a
    shell would show it in the middle of the command line), exit 0."""
    if not argv or argv[0] not in SHELLS:
        return 2
    shell, rest = argv[0], argv[1:]
    try:
        if shell == "bash":
            line, cur = (rest + ["", ""])[:2]
            words, incomplete, quote = _split_line(line)
            found = candidates(words, incomplete)
            out = [_bash_value(v, incomplete, cur, quote) for v, _ in found]
        else:
            words, incomplete = (rest[:-1], rest[-1]) if rest else ([], "")
            found = candidates(words, incomplete)
            if shell == "zsh":
                out = [f"{_zsh_escape(v)}:{_flat(d)}" if d else _zsh_escape(v) for v, d in found]
            else:
                out = [f"{v}\t{_flat(d)}" if d else v for v, d in found]
    except Exception:
        if os.environ.get("TINYCRM_DEBUG"):
            raise
        return 0
    if out:
        sys.stdout.write("\n".join(out) + "\n")
    return 0


def candidates(words: list[str], incomplete: str) -> list[tuple[str, str]]:
    """(value, description) for the word being typed after `tinycrm WORDS...`."""
    from tinycrm.cli.app import COMMANDS, GLOBAL_OPTIONS_WITH_VALUE, command_name

    words = list(words)
    if words and Path(words[0]).name == "tinycrm":
        words = words[1:]
    _use_db_option(words)
    name = command_name(words)
    if name is None:
        if words and words[-1] in GLOBAL_OPTIONS_WITH_VALUE:
            return []  # a path: the shell completes files
        if incomplete.startswith("-"):
            top = {"--db": "the store", "--version": "print the version", "--help": "help"}
            return [(o, h) for o, h in top.items() if o.startswith(incomplete)]
        return [(c, _summary(c)) for c in COMMANDS if c.startswith(incomplete)]
    if name not in COMMANDS:
        return []
    from typer.main import get_command

    from tinycrm.cli.app import build_app

    cli = get_command(build_app(words))
    return _from_tree(cli, words, incomplete)


def _from_tree(cli: Any, words: list[str], incomplete: str) -> list[tuple[str, str]]:
    from typer._click.core import Parameter
    from typer._click.shell_completion import _resolve_context, _resolve_incomplete

    ctx = _resolve_context(cli, {}, "tinycrm", list(words))
    obj, typed = _resolve_incomplete(ctx, list(words), incomplete)
    if isinstance(obj, Parameter):
        path = " ".join(ctx.command_path.split()[1:])
        name = obj.name or ""
        if name in STATIC:
            return [(v, "") for v in STATIC[name] if v.startswith(typed)]
        entity = path.split()[0] if name in FIELD_PARAMS else None
        if path in ("field edit", "field rm") and name == "name":
            entity = str(ctx.params.get("entity") or "")
        if entity:
            return _fields(entity, typed, "=" if name == "set_" else "")
        kind = BY_COMMAND.get((path, name)) or VALUE_KINDS.get(name)
        if kind is not None:
            return _values(kind, typed)
    items = obj.shell_complete(ctx, typed)
    return [(str(i.value), i.help or "") for i in items]


def _values(kind: str, typed: str) -> list[tuple[str, str]]:
    from tinycrm.cli.state import state
    from tinycrm.services.lookup import complete
    from tinycrm.startup import open_ctx

    ctx = open_ctx(state.db_option, create=False)  # a tab never creates a store
    try:
        return complete(ctx.db, kind, typed)
    finally:
        ctx.db.close()


def _fields(entity: str, typed: str, suffix: str) -> list[tuple[str, str]]:
    """The custom fields of `entity` starting with `typed` (any case), each + `suffix`."""
    from tinycrm.cli.state import state
    from tinycrm.errors import TinyCRMError
    from tinycrm.services.fields import list_fields
    from tinycrm.startup import open_ctx
    from tinycrm.text import fold

    ctx = open_ctx(state.db_option, create=False)  # a tab never creates a store
    try:
        found = list_fields(ctx.db, entity)
    except TinyCRMError:  # not contact, company or deal: nothing to offer
        return []
    finally:
        ctx.db.close()
    return [(f.name + suffix, f.type) for f in found if fold(f.name).startswith(fold(typed))]


def _use_db_option(words: list[str]) -> None:
    from tinycrm.cli.state import state

    for n, word in enumerate(words):
        if word == "--db" and n + 1 < len(words):
            state.db_option = os.path.expanduser(words[n + 1])
        elif word.startswith("--db="):
            state.db_option = os.path.expanduser(word.removeprefix("--db="))
        elif not word.startswith("-"):
            return


def _summary(command: str) -> str:
    """A command's few words of help, without importing its module (that would cost a
    tab what loading every command costs)."""
    return _SUMMARIES.get(command, "")


_SUMMARIES = {
    "note": "log a note, call, email or meeting",
    "remind": "set a reminder",
    "todo": "what is due",
    "done": "mark reminders done",
    "snooze": "push a reminder to later",
    "interaction": "correct or remove a note",
    "reminder": "correct or remove a reminder",
    "contact": "contacts",
    "company": "companies",
    "deal": "deals",
    "stages": "the pipeline's stages",
    "product": "the product catalogue",
    "quote": "quotes for deals",
    "recommend": "what to offer a customer",
    "field": "custom fields",
    "view": "saved filters",
    "purchase": "purchases",
    "case": "service cases",
    "sla": "service targets",
    "settings": "the team's settings",
    "import": "import files",
    "mail": "import email",
    "dedupe": "find duplicate contacts",
    "merge": "merge two contacts",
    "search": "search everything",
    "log": "recent activity",
    "rank": "customers by value",
    "next": "whom to contact next",
    "digest": "the daily digest",
    "tag": "tags and cadences",
    "export": "export records",
    "user": "users",
    "goal": "sales goals",
    "assign": "give a record to a user",
    "history": "the audit log",
    "undo": "take back a change",
    "redo": "take back an undo",
    "forget": "erase a person",
    "campaign": "marketing campaigns",
    "report": "reports",
    "init": "set up a store",
    "doctor": "check the store",
    "backup": "back up the store",
    "restore": "restore a backup",
    "tui": "the full-screen app",
    "completion": "tab completion",
}


def _split_line(line: str) -> tuple[list[str], str, str]:
    """(the words before the cursor, the word being typed, its opening quote or '') of a
    command line cut at the cursor, as the shell will read it."""
    for quote in ("", '"', "'"):
        try:
            words = shlex.split(line + quote)
        except ValueError:  # an open quote: try closing it
            continue
        if not quote and (not line or line[-1].isspace()):
            return words, "", ""
        return words[:-1], (words[-1] if words else ""), quote
    return [], "", ""


def _bash_value(value: str, incomplete: str, cur: str, quote: str) -> str:
    """The replacement for bash's current word `cur` (which begins after the last ':'
    COMP_WORDBREAKS splits at, or at an opening quote)."""
    if quote:
        closing = quote if " " in value or "'" in value or '"' in value else ""
        shown = value.replace("\\", "\\\\").replace('"', '\\"') if quote == '"' else value
        text = quote + shown + closing
        return text if cur.startswith(quote) else text[len(quote) :]
    quoted = _bash_quote(value)
    head = incomplete[: len(incomplete) - len(cur)] if cur and incomplete.endswith(cur) else ""
    if head and quoted.startswith(head):
        return quoted[len(head) :]
    return quoted


def _bash_quote(value: str) -> str:
    """A word bash reads back as `value`: backslashes before the characters it splits or
    expands at (as bash's own `printf %q` writes it), keeping ':' and '@' plain."""
    out = []
    for ch in value:
        if ch.isalnum() or ch in "@:._-+,/=%^":
            out.append(ch)
        else:
            out.append("\\" + ch)
    return "".join(out)


def _zsh_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:")


def _flat(text: str) -> str:
    from tinycrm.text import one_line

    return one_line(text, 60)


# -- the scripts ----------------------------------------------------------------------------------
BASH = r"""# tinycrm tab completion for bash (tinycrm completion show bash)
_tinycrm_complete() {
    local IFS=$'\n'
    COMPREPLY=($("${COMP_WORDS[0]}" __complete bash "${COMP_LINE:0:COMP_POINT}" \
        "${COMP_WORDS[COMP_CWORD]}" 2>/dev/null))
}
complete -o default -F _tinycrm_complete tinycrm
"""

ZSH = r"""#compdef tinycrm
# tinycrm tab completion for zsh (tinycrm completion show zsh)
_tinycrm() {
    local -a found
    found=("${(@f)$("${words[1]}" __complete zsh "${(@Q)words[2,CURRENT-1]}" \
        "${(Q)words[CURRENT]}" 2>/dev/null)}")
    found=(${found:#})
    if (( ${#found} )); then
        _describe -V tinycrm found
    else
        _files
    fi
}
if [[ "$funcstack[1]" == "_tinycrm" ]]; then
    _tinycrm "$@"
else
    compdef _tinycrm tinycrm
fi
"""

FISH = r"""# tinycrm tab completion for fish (tinycrm completion show fish)
function __tinycrm_complete
    set -l words (commandline -opc)
    set -l found (command $words[1] __complete fish $words[2..-1] (commandline -ct) 2>/dev/null)
    if test (count $found) -gt 0
        printf '%s\n' $found
    else
        __fish_complete_path (commandline -ct)
    end
end
complete -c tinycrm -f -a '(__tinycrm_complete)'
"""

SCRIPTS = {"bash": BASH, "zsh": ZSH, "fish": FISH}


def _shell(shell: str | None) -> str:
    from tinycrm.errors import InvalidInput

    if shell is None:
        shell = Path(os.environ.get("SHELL", "")).name
        if shell not in SHELLS:
            raise InvalidInput(
                "can't tell your shell from $SHELL; name it: tinycrm completion install bash"
            )
    shell = shell.strip().lower()
    if shell not in SHELLS:
        raise InvalidInput(f"shell must be one of {', '.join(SHELLS)}: {shell!r}")
    return shell


def install_path(shell: str) -> Path:
    """Where each shell loads completions from on its own, for this user."""
    home = Path.home()
    if shell == "bash":
        data = os.environ.get("XDG_DATA_HOME") or str(home / ".local" / "share")
        return Path(data) / "bash-completion" / "completions" / "tinycrm"
    if shell == "zsh":
        return Path(os.environ.get("ZDOTDIR") or home) / ".zfunc" / "_tinycrm"
    config = os.environ.get("XDG_CONFIG_HOME") or str(home / ".config")
    return Path(config) / "fish" / "completions" / "tinycrm.fish"


completion_app = typer.Typer(help="Tab completion for bash, zsh and fish.", no_args_is_help=True)

ShellArg = Annotated[
    str | None, typer.Argument(help="bash, zsh or fish (default: from $SHELL).", show_default=False)
]


@completion_app.command("show")
def completion_show(shell: ShellArg = None) -> None:
    """Print the completion script, to source it yourself.

    For example: eval "$(tinycrm completion show)".
    """
    sys.stdout.write(SCRIPTS[_shell(shell)])


@completion_app.command("install")
def completion_install(shell: ShellArg = None) -> None:
    """Install tab completion for your shell.

    In your home folder; it works in a new shell.
    """
    from tinycrm.cli import output
    from tinycrm.errors import InvalidInput

    name = _shell(shell)
    path = install_path(name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SCRIPTS[name], encoding="utf-8")
    except OSError as e:
        raise InvalidInput(f"can't write {path}: {e.strerror}") from None
    output.say(f"Installed {name} completion in {path}")
    if name == "zsh":
        output.note(
            f"zsh loads it when {path.parent} is on fpath before compinit: add"
            f" 'fpath=({path.parent} $fpath); autoload -Uz compinit; compinit' to ~/.zshrc"
        )
    elif name == "bash":
        output.note(
            "bash loads it through the bash-completion package; else add"
            f" 'source {path}' to ~/.bashrc"
        )
