"""Offline by design: the main paths run with every network connection refused.

A fresh interpreter loads a sitecustomize that makes connect, create_connection, getaddrinfo
and sendto on internet sockets fail and log the attempt, then runs the commands (in that
process, through the CLI's entry point). A canary attempt proves the guard is active; any other
attempt fails the test, even one a library caught and ignored.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from support import INTERVIEW, REPO

SITECUSTOMIZE = textwrap.dedent('''
    import os
    import socket

    _LOG = os.environ["QUALCODE_NET_LOG"]
    _INET = (socket.AF_INET, socket.AF_INET6)


    def _refuse(what, detail):
        with open(_LOG, "a", encoding="utf-8") as fh:
            fh.write(f"{what} {detail!r}\\n")
        raise OSError(f"network access refused by the offline test: {what} {detail!r}")


    def _guard(method):
        original = getattr(socket.socket, method)

        def guarded(self, *args):
            if self.family in _INET:
                _refuse(method, args)
            return original(self, *args)
        return guarded


    for _m in ("connect", "connect_ex", "sendto"):
        setattr(socket.socket, _m, _guard(_m))


    def create_connection(address, *args, **kwargs):
        _refuse("create_connection", address)


    def getaddrinfo(host, *args, **kwargs):
        _refuse("getaddrinfo", host)


    create_connection.offline_guard = True
    socket.create_connection = create_connection
    socket.getaddrinfo = getaddrinfo
''')

DRIVER = textwrap.dedent('''
    import json, socket, sys
    assert getattr(socket.create_connection, "offline_guard", False), "the guard is not loaded"
    try:  # the canary: proves attempts are refused and logged
        socket.create_connection(("192.0.2.1", 80), timeout=1)
    except OSError:
        pass
    from qualcode.cli import main
    steps, results = json.loads(sys.argv[1]), []
    for args in steps:
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        results.append(code)
    with open(sys.argv[2], "w", encoding="utf-8") as fh:
        json.dump(results, fh)
''')


def _available() -> set[str]:
    import click

    from qualcode.cli import cli

    names = set()

    def walk(group, prefix):
        for name, cmd in group.commands.items():
            names.add(prefix + name)
            if isinstance(cmd, click.Group):
                walk(cmd, f"{prefix}{name} ")

    walk(cli, "")
    return names


def test_main_paths_open_no_network_connection(tmp_path):
    have = _available()
    p, demo = str(tmp_path / "p.db"), str(tmp_path / "demo.db")
    src = tmp_path / "EI01.md"
    src.write_text(INTERVIEW, encoding="utf-8")
    steps = [
        ["--project", p, "import", str(src)],
        ["--project", p, "codebook", "import", str(REPO / "codebooks" / "remittances.yaml")],
        ["--project", p, "code", "EI01", "60", "120", "Barriers/Trust"],
        ["--project", p, "undo"],
        ["--project", p, "redo"],
        ["--project", p, "codings", "export", "-o", str(tmp_path / "codings.json")],
        ["--project", p, "codebook", "export", str(tmp_path / "codebook.yaml")],
        ["--project", p, "backup"],
    ]
    optional = [
        ("export quotes", ["--project", p, "export", "quotes", "--format", "md", "-o", str(tmp_path / "quotes.md")]),
        ("export qdpx", ["--project", p, "export", "qdpx", str(tmp_path / "p.qdpx")]),
    ]
    if (REPO / "transcripts").is_dir():
        steps.append(["demo", "--no-tui", demo])
        optional += [
            ("report frequencies", ["--project", demo, "report", "frequencies", "--json"]),
            ("agreement", ["--project", demo, "agreement", "--json"]),
            ("suggest", ["--project", demo, "suggest", "EI01_migration_service", "--top", "1", "--json"]),
        ]
    steps += [args for name, args in optional if name in have]
    log, out = tmp_path / "network.log", tmp_path / "results.json"
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    env = {**os.environ, "QUALCODE_NET_LOG": str(log),
           "PYTHONPATH": os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])])}
    r = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(steps), str(out)], env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    results = json.loads(out.read_text(encoding="utf-8"))
    failed = [" ".join(s[2:] if s[0] == "--project" else s) for s, code in zip(steps, results) if code != 0]
    assert failed == [], r.stderr[-3000:]
    attempts = log.read_text(encoding="utf-8").splitlines()
    assert attempts[0].startswith("create_connection ('192.0.2.1'"), attempts  # the canary, and only it
    assert attempts[1:] == []
    if (REPO / "transcripts").is_dir():
        assert os.stat(demo).st_mode & 0o777 == 0o600  # the demo project is private too
