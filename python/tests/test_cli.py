"""Finding the binary, the version check, exceptions from the binary,
progress, and Ctrl-C."""

import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import lmmbayes
from lmmbayes import _cli
from conftest import REPO, read_data

INSTALL = "go install github.com/lmmbayes/lmmbayes/cmd/lmmbayes@latest"


def fake_binary(tmp_path, version="0.1.0-dev", other='echo "lmmbayes: boom: an internal failure" >&2; exit 1'):
    p = tmp_path / "lmmbayes"
    p.write_text(
        textwrap.dedent(
            f"""\
            #!/bin/sh
            case "$1" in
            version) echo "lmmbayes {version} (commit fake, go1.26)";;
            *) {other};;
            esac
            """
        )
    )
    p.chmod(0o755)
    return p


def test_package_version_matches_the_binary_source():
    src = (REPO / "cmd" / "lmmbayes" / "version.go").read_text()
    go = re.search(r'var version = "([^"]+)"', src).group(1)
    b, p = _cli._parse_version(go), _cli._parse_version(lmmbayes.__version__)
    assert b == p, (go, lmmbayes.__version__)
    assert lmmbayes.binary_version() == go


def test_find_binary_env_path_and_missing(monkeypatch, tmp_path, binary):
    monkeypatch.setenv("LMMBAYES_BIN", binary)
    assert lmmbayes.find_binary() == os.path.realpath(binary)
    monkeypatch.setenv("LMMBAYES_BIN", str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="LMMBAYES_BIN=.*nope.*is not an executable") as ei:
        lmmbayes.find_binary()
    assert INSTALL in str(ei.value)
    # On PATH.
    monkeypatch.delenv("LMMBAYES_BIN")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "lmmbayes").symlink_to(binary)
    monkeypatch.setenv("PATH", str(bindir))
    assert lmmbayes.find_binary() == os.path.realpath(binary)
    # Nowhere: the error says how to install it.
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as ei:
        lmmbayes.Model("Reaction ~ Days + (1 | Subject)", read_data("sleepstudy"))
    msg = str(ei.value)
    assert "LMMBAYES_BIN" in msg and "PATH" in msg and INSTALL in msg and "go build -o lmmbayes ./cmd/lmmbayes" in msg


def test_version_check(monkeypatch, tmp_path):
    a = tmp_path / "a"
    a.mkdir()
    monkeypatch.setenv("LMMBAYES_BIN", str(fake_binary(a, version="9.9.0")))
    with pytest.raises(RuntimeError, match=r"version 9\.9\.0, but this Python package is 0\.1\.0\.dev0"):
        lmmbayes.find_binary()
    b = tmp_path / "b"
    b.mkdir()
    monkeypatch.setenv("LMMBAYES_BIN", str(fake_binary(b, version="0.1.3")))
    with pytest.warns(lmmbayes.LmmbayesWarning, match="0.1.3"):
        lmmbayes.find_binary()


def test_internal_failure_is_runtime_error(monkeypatch, tmp_path):
    monkeypatch.setenv("LMMBAYES_BIN", str(fake_binary(tmp_path)))
    with pytest.raises(RuntimeError) as ei:
        lmmbayes.Model("Reaction ~ Days + (1 | Subject)", read_data("sleepstudy"))
    e = ei.value
    assert isinstance(e, lmmbayes.LmmbayesError) and not isinstance(e, ValueError)
    assert str(e) == "lmmbayes: boom: an internal failure" and e.returncode == 1


def test_killed_binary_is_runtime_error(monkeypatch, tmp_path):
    monkeypatch.setenv("LMMBAYES_BIN", str(fake_binary(tmp_path, other="kill -9 $$")))
    with pytest.raises(RuntimeError, match="killed by signal 9"):
        lmmbayes.Model("Reaction ~ Days + (1 | Subject)", read_data("sleepstudy"))


def test_progress_callback_and_passthrough(models, tmp_path, capfd):
    seen = []
    models("sleepstudy").sample(chains=2, warmup=200, draws=200, seed=1, output_dir=tmp_path / "a", progress=lambda c, i, n: seen.append((c, i, n)))
    assert (1, 400, 400) in seen and (2, 400, 400) in seen
    assert all(n == 400 and 0 < i <= n for _, i, n in seen)
    capfd.readouterr()
    models("sleepstudy").sample(chains=2, warmup=200, draws=200, seed=1, output_dir=tmp_path / "b")
    err = capfd.readouterr().err
    assert "\rchain 1: 400/400" in err and "chain 2: 400/400" in err and err.endswith("\n")
    capfd.readouterr()
    models("sleepstudy").sample(chains=2, warmup=200, draws=200, seed=1, output_dir=tmp_path / "c", progress=False)
    assert "chain" not in capfd.readouterr().err


LONG = dict(chains=2, warmup=500, draws=5_000_000, seed=1, method="collapsed")


def test_keyboard_interrupt_keeps_what_the_binary_keeps(models, tmp_path):
    """A KeyboardInterrupt (raised here by the progress callback, as a
    Ctrl-C raises it in the waiting loop) sends the binary one SIGINT: it
    writes the draws made so far, marked incomplete, and Interrupted
    carries the reopened run."""

    def stop(chain, it, total):
        # After warmup (500), so that there are draws to keep.
        if it > 1000:
            raise KeyboardInterrupt

    t = time.monotonic()
    with pytest.raises(lmmbayes.Interrupted) as ei:
        models("sleepstudy").sample(output_dir=tmp_path / "a", progress=stop, **LONG)
    assert time.monotonic() - t < 60
    e = ei.value
    assert isinstance(e, KeyboardInterrupt)
    assert e.run_dir == tmp_path / "a" / "run"
    post = e.posterior
    assert post.incomplete
    n = len(post.draws("b_Days"))
    assert 8 <= n < 2 * LONG["draws"]
    assert any("interrupted" in w for w in post.warnings)
    again = lmmbayes.Posterior.from_dir(tmp_path / "a")
    assert again.incomplete and len(again.summary()) > 0


def test_interrupt_during_warmup_keeps_nothing(models, tmp_path):
    def stop(chain, it, total):
        raise KeyboardInterrupt

    with pytest.raises(lmmbayes.Interrupted, match="before any draws were saved") as ei:
        models("sleepstudy").sample(chains=1, warmup=5_000_000, draws=10, seed=1, method="collapsed", output_dir=tmp_path / "a", progress=stop)
    assert ei.value.run_dir is None and ei.value.posterior is None
    assert not (tmp_path / "a").exists()


def test_other_exception_stops_the_binary_leaving_nothing(models, tmp_path):
    def boom(chain, it, total):
        raise ZeroDivisionError("in the callback")

    with pytest.raises(ZeroDivisionError):
        models("sleepstudy").sample(output_dir=tmp_path / "a", progress=boom, **LONG)
    assert not (tmp_path / "a").exists()


def test_ctrl_c_in_a_python_process(tmp_path, binary):
    """A real SIGINT to a Python process that samples: Python forwards it to
    the binary (which runs in its own process group) and the draws so far
    are kept."""
    script = tmp_path / "s.py"
    script.write_text(
        textwrap.dedent(
            f"""\
            import signal, sys
            signal.signal(signal.SIGINT, signal.default_int_handler)
            import pandas as pd, lmmbayes
            m = lmmbayes.Model("Reaction ~ Days + (Days | Subject)", pd.read_csv({str(REPO / "testdata" / "sleepstudy.csv")!r}), factors=["Subject"])
            try:
                m.sample(output_dir=sys.argv[1], **{LONG!r})
            except lmmbayes.Interrupted as e:
                print("INTERRUPTED", e.posterior.incomplete, len(e.posterior.draws("b_Days")), flush=True)
                sys.exit(3)
            print("FINISHED")
            """
        )
    )
    # The child imports the lmmbayes these tests import (installed or not).
    pkg_parent = os.path.dirname(os.path.dirname(lmmbayes.__file__))
    env = dict(os.environ, LMMBAYES_BIN=binary, PYTHONPATH=os.pathsep.join([pkg_parent, os.environ.get("PYTHONPATH", "")]))
    p = subprocess.Popen([sys.executable, str(script), str(tmp_path / "out")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    buf = b""
    deadline = time.monotonic() + 60
    # Past warmup (500 iterations), so that there are draws to keep.
    past = lambda: any(int(n) > 1000 for n in re.findall(rb"chain 1: (\d+)/", buf))  # noqa: E731
    while not past() and time.monotonic() < deadline:
        chunk = p.stderr.read1(4096)
        if not chunk:
            break
        buf += chunk
    assert past(), buf.decode()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    err = (buf + err).decode()
    assert p.returncode == 3, (out, err)
    words = out.decode().split()
    assert words[:2] == ["INTERRUPTED", "True"]
    assert int(words[2]) >= 8
    assert "Ctrl-C: stopping the run" in err
    assert "lmmbayes: interrupted: writing the" in err


def test_relay_of_stderr():
    """Progress lines are rewritten in place (padded over a longer one);
    the last message and its detail lines are held for the exception; a
    message already shown for the model is not repeated."""
    import io

    out = io.StringIO()
    seen = {"lmmbayes: dropped 1 row with a missing value in a column the model uses (line 2); 9 of 10 rows are used"}
    r = _cli._Relay(True, out=out, seen=seen)
    p1 = "chain 2: 256/400 (100 it/s, ETA 10s)"
    p2 = "chain 1: 256/400 (100 it/s, ETA 1s) | chain 2: 300/400 (100 it/s, ETA 1s)"
    p3 = "chain 1: 400/400 (100 it/s, ETA 0s) | chain 2: 400/400 (100 it/s, ETA 0s)"
    r.segment(" | " + p1 + " | ")
    r.segment(p2)
    short = "chain 1: 300/400 (9 it/s, ETA 0s) | chain 2: 300/400 (9 it/s, ETA 0s)"
    r.segment(short)
    r.segment("lmmbayes: a/data.csv: stale dir removed")
    r.segment(p3 + " |  | ")
    r.segment("lmmbayes: b/data.csv: dropped 1 row with a missing value in a column the model uses (line 2); 9 of 10 rows are used")
    r.segment("lmmbayes: --formula: formula: bad")
    r.segment("y ~ (x")
    r.segment("     ^")
    r.close()
    assert out.getvalue() == "\r" + p1 + "\r" + p2 + "\r" + short + " " * (len(p2) - len(short)) + "\nlmmbayes: a/data.csv: stale dir removed\n" + "\r" + p3 + "\n"
    assert r.held == ["lmmbayes: --formula: formula: bad", "y ~ (x", "     ^"]
    assert r.lines[-3:] == r.held
    calls = []
    cb = _cli._Relay(lambda c, i, n: calls.append((c, i, n)))
    cb.segment(p2)
    assert calls == [(1, 256, 400), (2, 300, 400)]
