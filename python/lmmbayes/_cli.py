"""Finding the lmmbayes binary and running it.

The package drives the ``lmmbayes`` program through files, as cmdstanpy
drives CmdStan: every call here starts the binary, relays what it writes
on stderr (progress lines and messages) and turns a failure into a Python
exception carrying the binary's own message.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Union

from ._version import __version__

__all__ = [
    "LmmbayesInputError",
    "LmmbayesError",
    "Interrupted",
    "LmmbayesWarning",
    "find_binary",
    "binary_version",
]

INSTALL_HINT = (
    "Install it with Go 1.26 or newer: "
    "`go install github.com/lmmbayes/lmmbayes/cmd/lmmbayes@latest` "
    "(it lands in $(go env GOPATH)/bin, usually ~/go/bin), or from a checkout: "
    "`go build -o lmmbayes ./cmd/lmmbayes`; then put it on PATH or set "
    "LMMBAYES_BIN to its path."
)

EXIT_INPUT = 2
EXIT_INTERRUPTED = 130


class LmmbayesWarning(UserWarning):
    """A warning the lmmbayes binary gave (convergence, dropped rows, ...)."""


class _CommandFailure:
    """Mixin holding what a failed command left: its message, exit code,
    arguments and everything it wrote on stderr."""

    def _init(self, message: str, returncode: int, args: Sequence[str], stderr: str) -> None:
        self.message = message
        self.returncode = returncode
        self.argv = list(args)
        self.stderr = stderr


class LmmbayesInputError(ValueError, _CommandFailure):
    """The binary refused its input (exit code 2): a bad formula, data
    column, prior, setting or new data. The message is the binary's own."""

    def __init__(self, message: str, returncode: int = EXIT_INPUT, args: Sequence[str] = (), stderr: str = ""):
        ValueError.__init__(self, message)
        self._init(message, returncode, args, stderr)


class LmmbayesError(RuntimeError, _CommandFailure):
    """The binary failed for another reason than bad input (exit code 1:
    an internal failure, an unwritable dir; or killed by a signal)."""

    def __init__(self, message: str, returncode: int = 1, args: Sequence[str] = (), stderr: str = ""):
        RuntimeError.__init__(self, message)
        self._init(message, returncode, args, stderr)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped a run. The binary was stopped as a Ctrl-C in a
    terminal stops it: the draws made so far were written, marked
    incomplete, when there were any. ``run_dir`` is the run's dir when it
    exists (reopen it with ``Posterior.from_dir``), ``posterior`` the
    reopened run or None."""

    def __init__(self, message: str, run_dir: Optional[Path] = None, posterior=None):
        super().__init__(message)
        self.message = message
        self.run_dir = run_dir
        self.posterior = posterior

    def __str__(self) -> str:
        return self.message


# Shown as lmmbayes.LmmbayesInputError etc. in tracebacks.
for _cls in (LmmbayesWarning, LmmbayesInputError, LmmbayesError, Interrupted):
    _cls.__module__ = "lmmbayes"


# ---------------------------------------------------------------- binary

_version_checked: dict = {}


def find_binary(check_version: bool = True) -> str:
    """Returns the path of the lmmbayes binary: ``$LMMBAYES_BIN`` when set,
    else ``lmmbayes`` on PATH. Raises FileNotFoundError saying how to
    install it when there is none, and RuntimeError when its version does
    not match this package's (see :func:`check_version`)."""
    env = os.environ.get("LMMBAYES_BIN", "")
    if env:
        p = Path(env).expanduser()
        if not p.is_file() or not os.access(p, os.X_OK):
            raise FileNotFoundError(
                f"LMMBAYES_BIN={env!r} is not an executable file. {INSTALL_HINT}"
            )
        path = str(p.resolve())
    else:
        found = shutil.which("lmmbayes")
        if found is None:
            extra = ""
            gobin = Path.home() / "go" / "bin" / "lmmbayes"
            if gobin.is_file():
                extra = f" ({gobin} exists but its dir is not on PATH.)"
            raise FileNotFoundError(
                "the lmmbayes program was not found: LMMBAYES_BIN is not set and there is "
                f"no lmmbayes on PATH.{extra} {INSTALL_HINT}"
            )
        path = str(Path(found).resolve())
    if check_version:
        _check_version_once(path)
    return path


def _parse_version(s: str):
    """(major, minor, patch, is_release) of "0.1.0-dev", "v1.2.3", "0.1.0.dev0"."""
    m = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?(.*)$", s.strip())
    if not m:
        return None
    rest = m.group(4)
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), rest == ""


def binary_version(path: Optional[str] = None) -> str:
    """The version the binary reports (``lmmbayes version``), e.g. "0.1.0-dev"."""
    path = path or find_binary(check_version=False)
    r = subprocess.run([path, "version"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    m = re.match(r"lmmbayes (\S+)", r.stdout)
    if r.returncode != 0 or not m:
        raise LmmbayesError(
            f"{path}: `lmmbayes version` failed (exit {r.returncode}): {(r.stderr or r.stdout).strip()}",
            r.returncode,
            [path, "version"],
            r.stderr,
        )
    return m.group(1)


def check_version(path: str) -> None:
    """Refuses a binary whose major.minor version differs from this
    package's (the files and flags the package relies on may differ), and
    warns when only the patch or pre-release part differs."""
    got = binary_version(path)
    b, p = _parse_version(got), _parse_version(__version__)
    if b is None or p is None:
        warnings.warn(f"cannot compare the lmmbayes binary's version {got!r} with the package's {__version__!r}", LmmbayesWarning, stacklevel=3)
        return
    if b[:2] != p[:2]:
        raise RuntimeError(
            f"the lmmbayes binary {path} is version {got}, but this Python package is {__version__}: "
            f"install the matching binary (or package). {INSTALL_HINT}"
        )
    if b != p:
        warnings.warn(
            f"the lmmbayes binary {path} is version {got}, the Python package {__version__}",
            LmmbayesWarning,
            stacklevel=3,
        )


def _check_version_once(path: str) -> None:
    try:
        key = (path, os.stat(path).st_mtime_ns)
    except OSError:
        key = (path, 0)
    if key in _version_checked:
        return
    check_version(path)
    _version_checked[key] = True


_commands_cache: dict = {}


def commands(path: Optional[str] = None) -> List[str]:
    """The subcommands the binary offers (from ``lmmbayes help``)."""
    path = path or find_binary()
    if path not in _commands_cache:
        r = subprocess.run([path, "help"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
        names, inside = [], False
        for line in r.stdout.splitlines():
            if line.startswith("Commands:"):
                inside = True
                continue
            if inside:
                m = re.match(r"  (\S+)\s", line)
                if not m:
                    if names:
                        break
                    continue
                names.append(m.group(1))
        _commands_cache[path] = names
    return _commands_cache[path]


def command_help(command: str, path: Optional[str] = None) -> str:
    """The ``-h`` text of a subcommand."""
    path = path or find_binary()
    r = subprocess.run([path, command, "-h"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    return r.stdout + r.stderr


# ---------------------------------------------------------------- running

# A progress line of "lmmbayes run --progress": "chain 1: 256/2000 (4100
# it/s, ETA 0s) | chain 2: ...", rewritten in place with "\r".
_PROGRESS_PART = re.compile(r"chain (\d+): (\d+)/(\d+) \([^)]*\)")
_PROGRESS_LINE = re.compile(r"^[\s|]*(chain \d+: \d+/\d+ \([^)]*\)[\s|]*)+$")

_DATA_PATH = re.compile(r"^lmmbayes: \S*data\.csv: ")
_DROPPED_ROWS = "with a missing value in a column the model uses"

ProgressArg = Union[bool, Callable[[int, int, int], None], None]


class _Relay:
    """Relays the binary's stderr to Python: progress lines to sys.stderr
    (rewritten in place) or to a callback, messages to sys.stderr. The
    last "lmmbayes: " line and the lines after it are held back until the
    next message, progress line or the end, so that a failure's message
    is raised, not printed as well."""

    def __init__(self, progress: ProgressArg, out=None, seen: Optional[set] = None):
        self.progress = progress
        self.seen = seen
        self.out = out
        self.held: List[str] = []
        self.lines: List[str] = []
        self.progress_open = False
        self.width = 0

    def _stream(self):
        return self.out if self.out is not None else sys.stderr

    def _write(self, text: str) -> None:
        s = self._stream()
        try:
            s.write(text)
            s.flush()
        except (OSError, ValueError):
            pass

    def segment(self, seg: str) -> None:
        if not seg.strip():
            return
        if _PROGRESS_LINE.match(seg):
            self.flush()
            if callable(self.progress):
                for m in _PROGRESS_PART.finditer(seg):
                    self.progress(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            elif self.progress:
                text = " | ".join(m.group(0) for m in _PROGRESS_PART.finditer(seg))
                # Padded, so that a shorter line (a shorter ETA) leaves
                # nothing of the one it replaces.
                self._write("\r" + text.ljust(self.width))
                self.width = len(text)
                self.progress_open = True
            return
        self.lines.append(seg)
        if seg.startswith("lmmbayes: "):
            # Only the last message (and the lines that follow it, such as
            # a formula's caret line) can be the failure's.
            self.flush()
            self.held = [seg]
        elif self.held:
            self.held.append(seg)
        else:
            self.message(seg)

    def message(self, line: str) -> None:
        if self.seen is not None and _DROPPED_ROWS in line:
            # The dropped rows, which every command that reads the data
            # reports, are shown once per model; the data file's path
            # does not count.
            key = _DATA_PATH.sub("lmmbayes: ", line)
            if key in self.seen:
                return
            self.seen.add(key)
        if self.progress_open:
            self._write("\n")
            self.progress_open = False
            self.width = 0
        self._write(line + "\n")

    def flush(self) -> None:
        held, self.held = self.held, []
        for line in held:
            self.message(line)

    def close(self) -> None:
        if self.progress_open:
            self._write("\n")
            self.progress_open = False


def _reader(stream, q: "queue.Queue", tag: str) -> None:
    """Reads stream into q as ("stderr", text) chunks, then (tag, None)."""
    try:
        while True:
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not chunk:
                break
            q.put((tag, chunk))
    finally:
        q.put((tag, None))


def _popen_kwargs() -> dict:
    # The child runs in its own process group, so that a Ctrl-C in the
    # terminal reaches only Python, which forwards exactly one SIGINT: two
    # would make the binary stop at once and discard the draws.
    if os.name == "nt":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def _interrupt(proc: subprocess.Popen) -> None:
    try:
        if os.name == "nt":
            proc.send_signal(signal.CTRL_BREAK_EVENT)
        else:
            proc.send_signal(signal.SIGINT)
    except (ProcessLookupError, OSError):
        pass


class Result:
    """What a finished command returned."""

    def __init__(self, args, returncode, stdout, stderr_lines):
        self.args = args
        self.returncode = returncode
        self.stdout = stdout
        self.stderr_lines = stderr_lines

    @property
    def stderr(self) -> str:
        return "\n".join(self.stderr_lines)


def run(
    args: Sequence[str],
    *,
    progress: ProgressArg = False,
    cwd: Optional[Union[str, Path]] = None,
    binary: Optional[str] = None,
    on_interrupt: Optional[Callable[[], Optional[BaseException]]] = None,
    seen: Optional[set] = None,
) -> Result:
    """Runs ``lmmbayes ARGS`` and returns its stdout.

    Progress lines go to sys.stderr (``progress=True``), to a callback
    ``progress(chain, iteration, total)``, or nowhere; the binary's other
    stderr lines are written to sys.stderr. Exit code 2 raises
    :class:`LmmbayesInputError` (a ValueError), other failures
    :class:`LmmbayesError` (a RuntimeError), both carrying the binary's
    message. A KeyboardInterrupt while it runs sends the binary one SIGINT
    and waits for it to write what it keeps (a second Ctrl-C sends the
    second signal, which stops it at once); then :class:`Interrupted` is
    raised (``on_interrupt`` may return the exception to raise)."""
    path = binary or find_binary()
    argv = [path, *[str(a) for a in args]]
    relay = _Relay(progress, seen=seen)
    q: "queue.Queue" = queue.Queue()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=str(cwd) if cwd is not None else None,
        **_popen_kwargs(),
    )
    threads = [
        threading.Thread(target=_reader, args=(proc.stdout, q, "stdout"), daemon=True),
        threading.Thread(target=_reader, args=(proc.stderr, q, "stderr"), daemon=True),
    ]
    for t in threads:
        t.start()
    out_chunks: List[bytes] = []
    pending = ""
    open_streams = 2
    interrupted = 0
    last_signal = 0.0

    def handle(tag, chunk):
        nonlocal pending, open_streams
        if chunk is None:
            open_streams -= 1
            if tag == "stderr" and pending:
                relay.segment(pending)
                pending = ""
            return
        if tag == "stdout":
            out_chunks.append(chunk)
            return
        text = pending + chunk.decode("utf-8", "replace")
        parts = re.split(r"\r\n|\r|\n", text)
        pending = parts.pop()
        for p in parts:
            relay.segment(p)

    try:
        while open_streams > 0 or proc.poll() is None:
            try:
                try:
                    tag, chunk = q.get(timeout=0.1)
                except queue.Empty:
                    continue
                handle(tag, chunk)
            except KeyboardInterrupt:
                now = time.monotonic()
                # A held-down Ctrl-C repeats: count presses at least 0.3 s
                # apart, so that one press sends one signal.
                if interrupted == 0 or now - last_signal > 0.3:
                    interrupted += 1
                    last_signal = now
                    relay.flush()
                    if interrupted == 1:
                        relay.message("lmmbayes (Python): Ctrl-C: stopping the run; it writes what it kept (press Ctrl-C again to stop at once, keeping nothing)")
                    _interrupt(proc)
        proc.wait()
    except BaseException:
        # Anything else (an exception in a progress callback, say) stops
        # the binary as two Ctrl-Cs would: at once, leaving no partial
        # files.
        if proc.poll() is None:
            _interrupt(proc)
            time.sleep(0.05)
            _interrupt(proc)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        relay.close()
        raise
    for t in threads:
        t.join()
    relay.close()
    stdout = b"".join(out_chunks).decode("utf-8", "replace")
    rc = proc.returncode
    if rc == 0 and not interrupted:
        relay.flush()
        return Result(argv, rc, stdout, relay.lines)
    message = "\n".join(relay.held) if relay.held else "\n".join(relay.lines[-20:])
    if not message:
        message = f"lmmbayes {' '.join(map(str, args[:1]))} failed with exit code {rc} and no message"
    if interrupted or rc == EXIT_INTERRUPTED:
        # What the binary said while stopping ("interrupted: writing the
        # 7424 draws per chain finished so far") is shown, not raised.
        relay.flush()
        err = on_interrupt() if on_interrupt is not None else None
        if err is None:
            err = Interrupted(message)
        raise err
    if rc == EXIT_INPUT:
        raise LmmbayesInputError(message, rc, argv, "\n".join(relay.lines))
    if rc < 0:
        message = f"{message}\n(lmmbayes was killed by signal {-rc})".strip()
    raise LmmbayesError(message, rc, argv, "\n".join(relay.lines))
