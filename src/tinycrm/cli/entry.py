"""The `tinycrm` console script: run the Typer app, map every failure to one line.

Only this module turns exceptions into exit codes: domain errors (tinycrm.errors) and
Typer's usage errors become `Error: ...` on stderr with exit 2 (usage) or 1 (runtime);
standard output that can't be written (a full disk, `ulimit -f`) is one line too (exit
1); nothing else ever prints a traceback unless TINYCRM_DEBUG is set.
"""

from __future__ import annotations

import errno
import os
import sys

#: How writing standard output fails: a full disk or quota, a file-size limit (ulimit -f),
#: a terminal that went away.
_WRITE_FAILURES = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)


def _fail(message: str, code: int) -> int:
    from tinycrm.text import mask_secrets, one_line

    # the messages never hold a password by design; this is the last line of defence
    secrets = (os.environ.get(k) for k in ("TINYCRM_SMTP_PASSWORD", "PGPASSWORD"))
    sys.stderr.write(f"Error: {one_line(mask_secrets(message, *secrets))}\n")
    return code


def run(argv: list[str]) -> int:
    """Run one command line; returns the exit code."""
    import typer

    from tinycrm.cli import state
    from tinycrm.cli.app import build_app
    from tinycrm.errors import TinyCRMError

    if argv[:1] == ["__complete"]:  # a shell's tab: see cli/completion.py
        from tinycrm.cli.completion import run as complete

        try:
            return complete(argv[1:])
        finally:
            state.close()
    for n, arg in enumerate(argv, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:  # undecodable bytes (surrogateescape) or a lone surrogate
            try:
                raw = arg.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                raw = arg.encode("utf-8", "backslashreplace")
            shown = raw.decode("utf-8", "backslashreplace")[:60]
            return _fail(f"argument {n} is not valid UTF-8 text: '{shown}'", 2)
    try:
        app = build_app(argv)
        result = app(args=argv, prog_name="tinycrm", standalone_mode=False)
        sys.stdout.flush()  # a full disk shows here, while it can still be one line
        return result if isinstance(result, int) else 0
    except TinyCRMError as e:
        return _fail(str(e), e.exit_code)
    except typer.Exit as e:
        return e.exit_code
    except typer.Abort:
        return _fail("aborted", 1)
    except typer.TyperException as e:  # usage errors: bad option, missing argument...
        ctx = getattr(e, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        return _fail(e.format_message() + hint, e.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted; nothing was saved from the unfinished command", 130)
    except BrokenPipeError:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - the reader went away
        return 0
    except Exception as e:  # a full stdout, else a bug: one line, the details on request
        if isinstance(e, OSError) and e.filename is None and e.errno in _WRITE_FAILURES:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - drop what can't be written
            return _fail(f"can't write the output: {e.strerror}", 1)
        if os.environ.get("TINYCRM_DEBUG"):
            raise
        return _fail(f"internal error ({type(e).__name__}: {e}); rerun with TINYCRM_DEBUG=1", 1)
    finally:
        state.close()


def main() -> None:
    sys.exit(run(sys.argv[1:]))
