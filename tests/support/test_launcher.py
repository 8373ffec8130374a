"""The launcher (tests/support/launcher.py) starts a command as the shell would: its arguments,
folder, environment and streams, its exit status and signals, nothing of another child's."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

from tests.support import launcher
from tests.support.server import BIN

# A Flask app whose one command prints what the process it runs in was given.
PROBE = """
import json, os, random, sys, tempfile, time

from flask import Flask

app = Flask(__name__)


@app.cli.command("probe")
def probe():
    if os.environ.get("PROBE_SLEEP"):
        print("sleeping", flush=True)
        time.sleep(60)
    print(json.dumps({
        "argv": sys.argv,
        "cwd": os.getcwd(),
        "value": os.environ.get("PROBE_VALUE"),
        "only_given": "PROBE_NOT_GIVEN" not in os.environ,
        "stdin": sys.stdin.read(),
        "tmp": tempfile.gettempdir(),
        "random": random.random(),
    }))
    print("on stderr", file=sys.stderr)
    sys.exit(int(os.environ.get("PROBE_STATUS", "0")))
"""


@pytest.fixture
def probe(tmp_path, monkeypatch):
    (tmp_path / "probe_app.py").write_text(PROBE, encoding="utf-8")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("PROBE_NOT_GIVEN", "1")
    env = {"PATH": "/usr/bin:/bin", "PROBE_VALUE": "值", "TMPDIR": str(tmp_path / "tmp")}

    def run(**settings):
        return launcher.run(
            [str(BIN / "flask"), "--app", "probe_app", "probe"],
            cwd=tmp_path,
            env={**env, **settings.pop("env", {})},
            text=True,
            **settings,
        )

    return run


def test_a_command_gets_its_arguments_folder_environment_and_input(probe, tmp_path):
    result = probe(input="输入\n")
    seen = json.loads(result.stdout)
    assert result.returncode == 0
    assert seen["argv"] == [str(BIN / "flask"), "--app", "probe_app", "probe"]
    assert seen["cwd"] == str(tmp_path)
    assert seen["value"] == "值" and seen["only_given"]
    assert seen["stdin"] == "输入\n"
    assert seen["tmp"] == str(tmp_path / "tmp")
    assert result.stderr == "on stderr\n"


def test_the_exit_status_is_the_commands(probe):
    assert probe(env={"PROBE_STATUS": "3"}).returncode == 3
    with pytest.raises(subprocess.CalledProcessError):
        probe(env={"PROBE_STATUS": "3"}, check=True)


def test_two_children_do_not_share_their_random_numbers(probe):
    first, second = (json.loads(probe().stdout)["random"] for _ in range(2))
    assert first != second


def test_a_signal_ends_the_command_and_its_status_says_so(tmp_path, probe):
    probe()  # the probe file is written
    process = launcher.launch(
        [str(BIN / "flask"), "--app", "probe_app", "probe"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PROBE_SLEEP": "1"},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline() == "sleeping\n"
    assert process.poll() is None and process.ended_at is None
    with pytest.raises(subprocess.TimeoutExpired):
        process.wait(0.05)
    process.terminate()
    assert process.wait(30) == -signal.SIGTERM
    assert process.ended_at is not None
    process.stdout.close()


def test_any_other_program_is_an_ordinary_subprocess(tmp_path):
    process = launcher.launch(["/bin/true"], cwd=tmp_path, env={})
    assert isinstance(process, subprocess.Popen)
    assert process.wait(30) == 0


def test_closing_a_launcher_ends_what_it_started(tmp_path, probe):
    """A launcher of its own: closing this process's shared one would end the live servers
    other modules of the process are using."""
    probe()  # the probe file is written
    read, write = os.pipe()
    own = launcher.Launcher()
    try:
        pid = own.start(
            [str(BIN / "flask"), "--app", "probe_app", "probe"],
            str(tmp_path),
            {"PATH": "/usr/bin:/bin", "PROBE_SLEEP": "1"},
            [0, write, 2],
        )
        os.close(write)
        with open(read, encoding="utf-8") as output:
            assert output.readline() == "sleeping\n"
            own.close()
            # The launcher killed and reaped it before ending: the pid names no process now.
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    finally:
        own.close()
