"""Start the app's own commands (``gunicorn``, ``flask --app forms_app …``) for tests without
paying the interpreter's imports again each time.

A start of either command spends about a second of CPU importing Flask, SQLAlchemy and the app
before it does anything, and the suite starts some fifty of them (a live server, a user made on
its instance, a notification worker). Each test process therefore starts one *launcher*: a fresh
interpreter (never a fork of the test process, whose threads, sockets and caches a child must
not inherit) that imports those modules once and makes no app. For every command it forks a
child that becomes the command: the child takes the test's stdin, stdout and stderr (passed as
file descriptors), its working folder, its whole environment and its ``sys.argv``, then runs the
console script's own entry point (``gunicorn.app.wsgiapp:run``, ``flask.cli:main``) and ends as
that command ends. The command itself (argument parsing, ``create_app`` in the environment
given, gunicorn's master and workers, signal handlers, the interpreter's exit) runs as it would
from the shell; only the imports were made before. gunicorn's ``--preload`` does the same with
its workers.

``launch`` gives a ``Launched`` with the parts of ``subprocess.Popen`` the tests use (``pid``,
``poll``, ``wait``, ``send_signal``, ``terminate``, ``kill``, ``communicate``, pipes); the
launcher reports each child's exit status. Any other program gets a plain ``subprocess.Popen``.

Run as a script, this file is the launcher itself (``serve``).
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

# The console scripts the launcher can become, by file name: their entry points.
ENTRY_POINTS = {
    "gunicorn": ("gunicorn.app.wsgiapp", "run"),
    "flask": ("flask.cli", "main"),
}
REAP_INTERVAL = 0.005  # how often the launcher looks for ended children while it has some
MESSAGE_SIZE = 1 << 20


# --- the launcher process -------------------------------------------------------------------


def _warm() -> None:
    """Import what the commands import: both entry points, gunicorn's threaded worker, and every
    module of the app but ``forms_app.wsgi`` (which makes an app when imported), and configure
    the models' mappers. No app is made here: per-process caches start empty in each child, as
    in a fresh process."""
    import importlib
    import pkgutil

    import flask.cli  # noqa: F401
    import gunicorn.app.wsgiapp  # noqa: F401
    import gunicorn.workers.gthread  # noqa: F401

    import forms_app

    for module in pkgutil.walk_packages(forms_app.__path__, "forms_app."):
        if module.name != "forms_app.wsgi":
            importlib.import_module(module.name)
    # The models' relationships, as create_app works them out (once a process, whatever app).
    from sqlalchemy.orm import configure_mappers

    configure_mappers()


def _send(sock: socket.socket, message: dict) -> bool:
    """Tell the test process; False once it is gone."""
    try:
        sock.send(json.dumps(message).encode())
    except OSError:
        return False
    return True


def _become(sock: socket.socket, request: dict, fds: list[int]) -> None:
    """In the forked child: become the command. Ends the process (the command's SystemExit, or
    the interpreter's own exit after an uncaught exception), as the command would."""
    import importlib
    import tempfile

    sock.close()
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in set(fds):
        if fd > 2:
            os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    tempfile.tempdir = None  # gettempdir() reads TMPDIR from the new environment
    sys.argv = list(request["argv"])
    sys.path[0] = str(Path(sys.argv[0]).parent)
    module, function = ENTRY_POINTS[Path(sys.argv[0]).name]
    status = getattr(importlib.import_module(module), function)()
    sys.exit(status)


def serve(sock: socket.socket) -> None:
    # A console script's first import folder is its own (the venv's bin), not this file's.
    sys.path[0] = str(Path(sys.executable).parent)
    _warm()
    # The children's collector never walks what was imported here (as gunicorn's --preload
    # workers would like too): fewer pages copied from the launcher, less time in each child.
    gc.collect()
    gc.freeze()
    _send(sock, {"ready": os.getpid()})
    children: set[int] = set()
    connected = True
    while connected:
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                children.clear()
                break
            if not pid:
                break
            children.discard(pid)
            connected = _send(sock, {"exited": pid, "code": os.waitstatus_to_exitcode(status)})
        if not connected:
            break
        if not select.select([sock], [], [], REAP_INTERVAL if children else None)[0]:
            continue
        try:
            data, fds, _flags, _address = socket.recv_fds(sock, MESSAGE_SIZE, 3)
        except OSError:
            data, fds = b"", []
        if not data:
            break  # the test process ended or closed its end: so do the children (below)
        request = json.loads(data)
        pid = os.fork()
        if pid == 0:
            _become(sock, request, fds)
        for fd in fds:
            os.close(fd)
        children.add(pid)
        connected = _send(sock, {"started": pid, "id": request["id"]})
    for pid in children:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


# --- the test process's side ----------------------------------------------------------------


class LauncherGone(RuntimeError):
    pass


class Launcher:
    """The test process's connection to its launcher."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen(
            [sys.executable, __file__, str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            cwd=Path(__file__).resolve().parents[2],
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self.sock = ours
        self._changed = threading.Condition()
        self._started: dict[int, int] = {}  # request id: pid
        self._exits: dict[int, tuple[int, float]] = {}  # pid: (exit status, when reported)
        self._next_id = 0
        self._send_lock = threading.Lock()
        self.gone = False
        ours.settimeout(120)
        ready = json.loads(ours.recv(MESSAGE_SIZE) or b"{}")
        if "ready" not in ready:
            raise LauncherGone(f"the launcher did not start (exit status {self.process.wait()})")
        ours.settimeout(None)
        threading.Thread(target=self._read, daemon=True, name="launcher-reader").start()

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(MESSAGE_SIZE)
            except OSError:
                data = b""
            with self._changed:
                if not data:
                    self.gone = True
                    self._changed.notify_all()
                    return
                message = json.loads(data)
                if "started" in message:
                    self._started[message["id"]] = message["started"]
                else:
                    self._exits[message["exited"]] = (message["code"], time.monotonic())
                self._changed.notify_all()

    def start(self, argv: list[str], cwd: str, env: dict, fds: list[int]) -> int:
        with self._send_lock:
            self._next_id += 1
            request_id = self._next_id
            payload = json.dumps({"id": request_id, "argv": argv, "cwd": cwd, "env": env})
            socket.send_fds(self.sock, [payload.encode()], fds)
        with self._changed:
            while request_id not in self._started:
                if self.gone:
                    raise LauncherGone("the launcher ended")
                self._changed.wait()
            return self._started.pop(request_id)

    def exit_status(self, pid: int, timeout: float | None) -> int | None:
        """The child's exit status once it ended; None if it still runs after ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while pid not in self._exits:
                if self.gone:
                    raise LauncherGone(f"the launcher ended before process {pid}")
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._changed.wait(left)
            return self._exits[pid][0]

    def ended_at(self, pid: int) -> float | None:
        """When (``time.monotonic``) the launcher reported the child's end; None before."""
        with self._changed:
            return self._exits[pid][1] if pid in self._exits else None

    def close(self) -> None:
        # shutdown, not just close: the reader thread's recv holds the socket open, and only
        # shutdown both wakes it and tells the launcher at once.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_launcher: Launcher | None = None
_launcher_lock = threading.Lock()


def _the_launcher() -> Launcher:
    global _launcher
    with _launcher_lock:
        if _launcher is None or _launcher.gone:
            _launcher = Launcher()
        return _launcher


def close_launcher() -> None:
    """End this process's launcher (its children with it), if one was started."""
    global _launcher
    with _launcher_lock:
        if _launcher is not None:
            _launcher.close()
            _launcher = None


class Launched:
    """A command the launcher started: what the tests use of ``subprocess.Popen``."""

    def __init__(self, launcher: Launcher, args, pid: int, stdin, stdout, stderr) -> None:
        self._launcher = launcher
        self.args = args
        self.pid = pid
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._launcher.exit_status(self.pid, 0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            status = self._launcher.exit_status(self.pid, timeout)
            if status is None:
                raise subprocess.TimeoutExpired(self.args, timeout)
            self.returncode = status
        return self.returncode

    @property
    def ended_at(self) -> float | None:
        """When (``time.monotonic``, within a few milliseconds) the process ended; None before."""
        return self._launcher.ended_at(self.pid)

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass  # ended, its status not reported yet

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def communicate(self, input=None, timeout: float | None = None):
        """Write ``input``, read the pipes to their end, wait: (stdout, stderr)."""
        results: dict[str, object] = {}

        def drain(name, stream):
            results[name] = stream.read()
            stream.close()

        readers = [
            threading.Thread(target=drain, args=(name, stream), daemon=True)
            for name, stream in (("stdout", self.stdout), ("stderr", self.stderr))
            if stream is not None
        ]
        for reader in readers:
            reader.start()
        if self.stdin is not None:
            try:
                if input:
                    self.stdin.write(input)
                self.stdin.close()
            except BrokenPipeError:
                pass
        deadline = None if timeout is None else time.monotonic() + timeout
        for reader in readers:
            reader.join(None if deadline is None else max(0, deadline - time.monotonic()))
        self.wait(None if deadline is None else max(0, deadline - time.monotonic()))
        return results.get("stdout"), results.get("stderr")


def _launchable(argv) -> bool:
    return Path(str(argv[0])).name in ENTRY_POINTS


def launch(argv, *, cwd, env, stdin=None, stdout=None, stderr=None, text=False):
    """Start ``argv`` (``…/gunicorn`` or ``…/flask``) through this process's launcher, or any
    other program with ``subprocess.Popen``. ``stdin``/``stdout``/``stderr``: None (this
    process's own), ``subprocess.DEVNULL``, ``subprocess.PIPE`` or, for stderr,
    ``subprocess.STDOUT``, or a file descriptor of this process (several children may share
    one pipe)."""
    if not _launchable(argv):
        return subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=stdin, stdout=stdout, stderr=stderr, text=text
        )
    opened: list[int] = []  # the child's ends, closed here once passed
    ours: list = [None, None, None]
    fds: list[int] = []
    for number, choice in enumerate((stdin, stdout, stderr)):
        if choice is None:
            fds.append(number)
        elif choice == subprocess.DEVNULL:
            fd = os.open(os.devnull, os.O_RDWR)
            opened.append(fd)
            fds.append(fd)
        elif choice == subprocess.STDOUT and number == 2:
            fds.append(fds[1])
        elif isinstance(choice, int) and choice >= 0:
            fds.append(choice)
        elif choice == subprocess.PIPE:
            read, write = os.pipe()
            child_end, our_end = (read, write) if number == 0 else (write, read)
            opened.append(child_end)
            fds.append(child_end)
            mode = ("w" if number == 0 else "r") + ("" if text else "b")
            ours[number] = open(our_end, mode, encoding="utf-8" if text else None)  # noqa: SIM115
        else:
            raise ValueError(f"unsupported stream for the launcher: {choice!r}")
    launcher = _the_launcher()
    try:
        pid = launcher.start([str(part) for part in argv], str(cwd), dict(env), fds)
    finally:
        for fd in opened:
            os.close(fd)
    return Launched(launcher, argv, pid, *ours)


def run(argv, *, cwd, env, input=None, text=False, check=False, timeout=None):
    """``subprocess.run(argv, capture_output=True, …)`` through the launcher."""
    process = launch(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=text,
    )
    try:
        out, err = process.communicate(input, timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
    result = subprocess.CompletedProcess(argv, process.returncode, out, err)
    if check:
        result.check_returncode()
    return result


if __name__ == "__main__":
    serve(socket.socket(fileno=int(sys.argv[1])))
