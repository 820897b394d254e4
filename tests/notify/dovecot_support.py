"""A real IMAP server for the tests: Debian's dovecot, configured in a temporary folder and started per test.

TLS is real: a self-signed certificate for 127.0.0.1 is made with openssl,
and the client trusts it through `intake.imap.ca_file`, so the tests verify
the certificate as a deployment would. Dovecot refuses to store mail as
root, so when the tests run as root the mail belongs to `nobody`, in a
folder outside pytest's (which only root may enter).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = Path("/usr/sbin/dovecot")
USER, PASSWORD = "support", "imap-secret"

CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
auth_mechanisms = plain
{users}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed(folder: Path, name: str = "cert") -> Path:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(folder / f"{name.replace('cert', 'key')}.pem"), "-out", str(folder / f"{name}.pem"),
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return folder / f"{name}.pem"


class Dovecot:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="triageboard-dovecot-"))
        self.root.chmod(0o755)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def ca_file(self) -> Path:
        return self.root / "cert.pem"

    def start(self) -> None:
        root = self.root
        for name in ("run", "state", "home"):
            (root / name).mkdir()
        self_signed(root)
        if os.getuid() == 0:
            mail_user = pwd.getpwnam("nobody")
            users = ""
        else:
            mail_user = pwd.getpwuid(os.getuid())
            users = f"default_internal_user = {mail_user.pw_name}\ndefault_login_user = {mail_user.pw_name}"
        home = root / "home" / USER
        home.mkdir()
        os.chown(home, mail_user.pw_uid, mail_user.pw_gid)
        (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        conf = root / "dovecot.conf"
        conf.write_text(CONF.format(root=root, users=users, uid=mail_user.pw_uid, gid=mail_user.pw_gid, port=self.port))
        self.process = subprocess.Popen([str(DOVECOT), "-F", "-c", str(conf)], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
        output = self.process.stdout.read().decode() if self.process.poll() is not None else ""
        self.stop()
        raise RuntimeError(f"dovecot did not start: {output}{log}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.root, ignore_errors=True)

    def client(self):
        from imapclient import IMAPClient

        client = IMAPClient("127.0.0.1", port=self.port, ssl=True,
                            ssl_context=ssl.create_default_context(cafile=str(self.ca_file)), timeout=10)
        client.login(USER, PASSWORD)
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        client = self.client()
        try:
            client.append(folder, raw)
        finally:
            client.logout()

    def count(self, folder: str) -> int:
        client = self.client()
        try:
            if not client.folder_exists(folder):
                return 0
            return len(client.select_folder(folder, readonly=True) and client.search(["NOT", "DELETED"]))
        finally:
            client.logout()

    def imap_config(self, folder: str = "INBOX") -> str:
        return (f"  imap:\n    host: 127.0.0.1\n    port: {self.port}\n    user: {USER}\n"
                f"    password_env: TEST_IMAP_PASSWORD\n    folder: {folder}\n    processed_folder: Processed\n"
                f"    ca_file: {self.ca_file}\n    timeout: 10\n")
