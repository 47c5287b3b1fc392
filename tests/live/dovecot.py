"""A throw-away Dovecot for the live tests: plain IMAP on 127.0.0.1 and a free port, one user from a password
file, Maildir storage in a temp folder, run in the foreground (``dovecot -F``) and stopped at teardown.

As root (CI, these machines) it is configured as ``../shared/dovecot`` was seen to run: the login process as
``dovenull``, the mail as ``dovecot`` (neither may be root); as anyone else every process is that user.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from imapclient import IMAPClient

USER = "sam@example.org"
START_SECONDS = 15.0


class CannotRun(RuntimeError):
    """Dovecot is not installed here or would not start."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def binary() -> str:
    found = shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)), None
    )
    if found is None:
        raise CannotRun("dovecot is not installed (apt-get install dovecot-imapd; .ci/run installs it)")
    return found


def config(root: Path, port: int) -> str:
    if os.geteuid() == 0:
        internal, group, login = "dovecot", "dovecot", "dovenull"
        uid, gid, first_uid = "dovecot", "dovecot", 100
    else:
        me = pwd.getpwuid(os.geteuid()).pw_name
        internal, group, login = me, grp.getgrgid(os.getegid()).gr_name, me
        uid, gid, first_uid = str(os.geteuid()), str(os.getegid()), min(os.geteuid(), 100)
    return f"""\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%u
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = {first_uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    """One running server; ``restart`` stops it and starts it again on the same port with the same mail."""

    root: Path
    port: int = field(default_factory=free_port)
    password: str = field(default_factory=lambda: "pw-" + secrets.token_urlsafe(18))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"imap://{USER}@127.0.0.1:{self.port}/INBOX"

    @classmethod
    def make(cls) -> Dovecot:
        """A new server in a new folder (under /tmp, readable by the ``dovecot`` user when run as root)."""
        executable = binary()
        root = Path(tempfile.mkdtemp(prefix="boundaryline-dovecot-"))
        root.chmod(0o755)
        server = cls(root)
        (root / "dovecot.conf").write_text(config(root, server.port), encoding="utf-8")
        (root / "users").write_text(f"{USER}:{{PLAIN}}{server.password}\n", encoding="utf-8")
        for name in ("run", "state", "mail", "home"):
            (root / name).mkdir()
        if os.geteuid() == 0:
            for name in ("mail", "home"):
                shutil.chown(root / name, "dovecot", "dovecot")
        server.executable = executable
        server.start()
        return server

    executable: str = "dovecot"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.executable, "-F", "-c", str(self.root / "dovecot.conf")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: stopping it ends its imap processes too
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CannotRun(f"dovecot exited with {self.process.returncode}: {self._why()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise CannotRun(f"dovecot did not answer on port {self.port} within {START_SECONDS:g} s: {self._why()}")

    def _why(self) -> str:
        err = self.process.stderr.read().decode(errors="replace") if self.process and self.process.stderr else ""
        log = self.root / "dovecot.log"
        tail = log.read_text(errors="replace").splitlines()[-3:] if log.exists() else []
        return " | ".join(line for line in [err.strip(), *tail] if line) or "no log"

    def stop(self) -> None:
        """Stop the server and every process it started: an imap process outlives its master otherwise, and
        its client would never see the server go."""
        if self.process is None:
            return
        group = self.process.pid
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(ProcessLookupError):  # nothing of it left
            os.killpg(group, signal.SIGKILL)
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        """Kill it (a throw-away server needs no clean shutdown) and remove its folder."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def client(self) -> IMAPClient:
        """A logged-in connection of the test's own (to deliver mail and look at what the watch did)."""
        client = IMAPClient("127.0.0.1", self.port, ssl=False, timeout=10)
        client.login(USER, self.password)
        return client
