"""A real PostgreSQL server for the tests, started from the system's binaries in a temporary data folder.

    with postgres_server() as server:        # initdb, pg_ctl start on a free port of 127.0.0.1
        url = server.database("gradebook")   # a new, empty database: postgresql://postgres@127.0.0.1:PORT/gradebook

PostgreSQL refuses to run as root: as root (CI) the server runs as the system's ``postgres`` user, which
Debian's ``postgresql`` package creates (``.ci/run`` installs it). Trust authentication on 127.0.0.1 only;
the server and its data are removed afterwards.
"""

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from course import free_port

SERVER_USER = "postgres"


def binaries():
    """The folder of initdb and pg_ctl (on PATH, or Debian's /usr/lib/postgresql/VERSION/bin), or None."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class Server:
    def __init__(self, port):
        self.port = port

    def url(self, database):
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def database(self, name):
        """A new database on the server; its URL."""
        import psycopg
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def postgres_server():
    bin_dir = binaries()
    assert bin_dir, "PostgreSQL's server programs are not installed (apt install postgresql)"
    as_root = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="dlfs-postgres-"))
    data, sockets, port = folder / "data", folder / "sockets", free_port()
    sockets.mkdir()

    def run(*command):
        prefix = ["runuser", "-u", SERVER_USER, "--"] if as_root else []
        subprocess.run(prefix + [str(bin_dir / command[0]), *command[1:]], check=True, capture_output=True,
                       text=True, cwd=folder)

    if as_root:
        user = pwd.getpwnam(SERVER_USER)
        for path in (folder, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    try:
        run("initdb", "-D", str(data), "-U", SERVER_USER, "--auth=trust", "--no-sync", "-E", "UTF8")
        run("pg_ctl", "-D", str(data), "-l", str(folder / "server.log"), "-w", "-o",
            f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        yield Server(port)
    finally:
        if (data / "postmaster.pid").exists():
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)
