"""The embedded database: a private PostgreSQL + PostGIS cluster in a local folder.

With ``DATABASE_URL`` unset the app runs its own cluster: created on first use with
``initdb``, started on demand with ``pg_ctl``, reached only through a unix socket in a
private folder (no TCP port), reused across runs and stopped cleanly by the process
that started it.

Served by gunicorn (``gunicorn.conf.py``), the cluster belongs to the master process: it
starts the cluster before forking workers and sets :data:`SUPERVISOR_ENV`, so that the
workers only connect and never start or stop it; a worker's exit (a reload, a recycle, a
crash) then leaves the database running for the others.

A :class:`Standby` is the embedded cluster's own streaming replica, in a folder beside it
(``var/postgres-standby``): a copy made with ``pg_basebackup -R`` that replays the primary's
write-ahead log through the primary's private socket and answers read-only queries on its own
socket (``flask db standby``).

PostgreSQL refuses to run as root. Run as root (as CI does), the cluster's files belong
to an unprivileged system user (``postgres`` when the PostgreSQL packages created it,
else ``geo311``) and the server runs as that user.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import pwd
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from core.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

SUPERUSER = "geo311"
DEFAULT_PORT = 5432
# A unix socket path may not exceed 107 bytes (sun_path); keep a margin.
MAX_SOCKET_PATH = 100
#: Set by the process that owns the embedded cluster for the processes it forks (the
#: gunicorn master): its pid. Not a setting for people; gunicorn.conf.py sets it.
SUPERVISOR_ENV = "GEO311_PG_SUPERVISOR"


def supervisor_pid() -> int | None:
    """The pid of the process that owns the embedded cluster for this one, or None when
    this process manages it itself (``flask run``, the CLI, the tests)."""
    value = os.environ.get(SUPERVISOR_ENV, "")
    return int(value) if value.isdigit() else None


def find_bindir() -> Path:
    """The folder of ``initdb`` and ``pg_ctl`` of the newest PostgreSQL with PostGIS.

    ``PG_BINDIR`` wins when set. On Debian/Ubuntu each major version lives in
    ``/usr/lib/postgresql/<major>/bin``; elsewhere ``pg_ctl`` on the PATH is used.
    """
    explicit = os.environ.get("PG_BINDIR")
    if explicit:
        return Path(explicit)
    candidates = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        major = bindir.parent.name
        has_postgis = any(Path(f"/usr/share/postgresql/{major}/extension").glob("postgis.control"))
        if (bindir / "pg_ctl").exists() and major.isdigit():
            candidates.append((has_postgis, int(major), bindir))
    if candidates:
        return max(candidates)[2]
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).resolve().parent
    raise DatabaseUnavailable(
        "PostgreSQL is not installed (no pg_ctl found); run scripts/install.sh, "
        "or install PostgreSQL and PostGIS, or set DATABASE_URL to a server."
    )


@contextmanager
def _interrupts_ignored() -> Iterator[None]:
    """Ignore SIGINT for the block (only the main thread may change signal handlers)."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: nothing to ignore here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def memory_settings(total_bytes: int | None = None) -> dict[str, str]:
    """Memory and planner settings for the embedded server, sized from the machine at every start.

    A quarter of the memory (between 256 MB and 4 GB) for shared buffers, the usual
    advice: reports scan the whole request table, and PostgreSQL reads a table larger
    than a quarter of its buffers through a small ring instead of keeping it cached.
    Random reads priced as on a solid-state disk with the data cached (1.1, not 4), so
    that reports choose the index-only scans made for them.
    """
    if total_bytes is None:
        total_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    mb = total_bytes // 2**20
    shared = min(max(mb // 4, 256), 4096)
    return {
        "shared_buffers": f"{shared}MB",
        "effective_cache_size": f"{max(mb // 2, 512)}MB",
        "work_mem": "64MB",
        "maintenance_work_mem": f"{min(max(mb // 16, 256), 1024)}MB",
        "random_page_cost": "1.1",
    }


def _service_user() -> str | None:
    """The unprivileged user that runs the server when we are root; None when we are not."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "geo311"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "geo311"],
        check=True,
        capture_output=True,
    )
    return "geo311"


class EmbeddedCluster:
    """A private PostgreSQL cluster living in ``root``.

    ``root`` holds ``data/`` (the cluster), ``server.log`` and, when the path is short
    enough, ``run/`` (the unix socket).
    """

    def __init__(self, root: Path, port: int = DEFAULT_PORT) -> None:
        self.user = _service_user()
        self.root = self._reachable_root(Path(root).resolve())
        self.port = port
        self.data_dir = self.root / "data"
        self.log_file = self.root / "server.log"
        self.socket_dir = self._socket_dir()
        self.started_here = False
        self._bindir: Path | None = None

    # -- locations -------------------------------------------------------------------

    def _reachable_root(self, root: Path) -> Path:
        """``root``, or a folder under /var/lib/geo311 when the service user cannot reach it.

        Run as root in a checkout under a private home folder (mode 700), the server's
        user cannot traverse the path; rather than loosen the home folder's permissions
        we keep the cluster in a system folder named after the requested one.
        """
        if self.user is None:
            return root
        probe = root
        while not probe.exists():
            probe = probe.parent
        if self._run(["test", "-x", str(probe)], check=False).returncode == 0:
            return root
        fallback = Path("/var/lib/geo311") / hashlib.sha1(str(root).encode()).hexdigest()[:12]
        log.warning("user %s cannot reach %s; the embedded database lives in %s", self.user, root, fallback)
        return fallback

    def _socket_dir(self) -> Path:
        preferred = self.root / "run"
        if len(str(preferred / f".s.PGSQL.{self.port}")) <= MAX_SOCKET_PATH:
            return preferred
        digest = hashlib.sha1(str(self.root).encode()).hexdigest()[:12]
        return Path("/tmp") / f"geo311-{digest}"

    @property
    def bindir(self) -> Path:
        if self._bindir is None:
            self._bindir = find_bindir()
        return self._bindir

    def url(self, dbname: str) -> str:
        """The SQLAlchemy URL of database ``dbname`` in this cluster."""
        return f"postgresql+psycopg://{SUPERUSER}@/{dbname}?host={self.socket_dir}&port={self.port}"

    def conninfo(self, dbname: str) -> str:
        """The libpq connection string of database ``dbname`` in this cluster."""
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname={dbname}"

    # -- running commands ------------------------------------------------------------

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        if self.user is not None:
            kwargs = {"user": self.user, "group": pwd.getpwnam(self.user).pw_gid, "extra_groups": []}
        result = subprocess.run(  # type: ignore[call-overload]
            args, capture_output=True, text=True, cwd="/", env=self._env(), **kwargs
        )
        if check and result.returncode != 0:
            raise DatabaseUnavailable(
                f"{Path(args[0]).name} failed ({(result.stderr or result.stdout).strip()[-500:]}); "
                f"see {self.log_file}, or delete {self.root} to start afresh."
            )
        return result

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        return env

    def _make_private_dir(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)
        path.chmod(0o700)

    @contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise create/start/stop between processes sharing this cluster."""
        self.root.parent.mkdir(parents=True, exist_ok=True)
        with open(self.root.parent / f".{self.root.name}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- lifecycle -------------------------------------------------------------------

    def is_initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def is_running(self) -> bool:
        if not self.is_initialized():
            return False
        result = self._run([str(self.bindir / "pg_ctl"), "status", "-D", str(self.data_dir)], check=False)
        return result.returncode == 0

    def initialize(self) -> None:
        """Create the cluster's files (``initdb``) with settings for a private socket."""
        self._make_private_dir(self.root)
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",  # reachable only through a socket in a 0700 folder
                "-E",
                "UTF8",
                "--no-locale",
            ]
        )
        settings = (
            "\n# geo311 embedded cluster\n"
            "listen_addresses = ''\n"
            f"unix_socket_directories = '{self.socket_dir}'\n"
            "unix_socket_permissions = 0700\n"
            f"port = {self.port}\n"
            "max_connections = 200\n"
        )
        conf = self.data_dir / "postgresql.conf"
        with open(conf, "a", encoding="utf-8") as handle:
            handle.write(settings)

    def server_settings(self) -> dict[str, str]:
        """The settings the server is started with (``-c name=value``): memory and planner sizes."""
        return memory_settings()

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._make_private_dir(self.socket_dir)
        if self.log_file.exists() and self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.log_file, entry.pw_uid, entry.pw_gid)
        options = " ".join(f"-c {name}={value}" for name, value in self.server_settings().items())
        result = self._run(
            [
                str(self.bindir / "pg_ctl"),
                "start",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "120",
                "-o",
                options,
            ],
            check=False,
        )
        if result.returncode != 0:
            raise DatabaseUnavailable(
                f"The embedded PostgreSQL did not start: {self._log_tail()} "
                f"(log: {self.log_file}; delete {self.root} to start afresh)."
            )

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are rolled back)."""
        with self._lock():
            if self.is_running():
                self._run(
                    [str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "120"]
                )
        self.started_here = False

    def ensure_running(self) -> bool:
        """Create and start the cluster as needed; True when this call started it."""
        with self._lock():
            if not self.is_initialized():
                log.info("creating the embedded PostgreSQL cluster in %s", self.data_dir)
                self.initialize()
            if self.is_running():
                return False
            log.info("starting the embedded PostgreSQL cluster in %s", self.data_dir)
            self.start()
            self.started_here = True
            return True

    def stop_if_started_here(self) -> None:
        """Stop the server if this process started it (for atexit and test teardown).

        A second Ctrl-C while it stops is ignored: interrupted, the stop would leave the
        server running with nobody left to stop it.
        """
        if self.started_here:
            with _interrupts_ignored():
                self.stop()

    def ensure_database(self, dbname: str) -> None:
        """Create database ``dbname`` unless it exists."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", dbname):
            raise DatabaseUnavailable(
                f"{dbname!r} is not a usable database name; use lower-case letters, digits and _."
            )
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{dbname}"')

    def _log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return "no server log was written"
        return " | ".join(text[-lines:]) or "the server log is empty"


STANDBY_SUFFIX = "-standby"


def standby_root(primary_root: Path) -> Path:
    """Where the embedded cluster's standby lives: a folder beside the primary's (``var/postgres-standby``)."""
    primary_root = Path(primary_root)
    return primary_root.parent / f"{primary_root.name}{STANDBY_SUFFIX}"


class Standby(EmbeddedCluster):
    """A hot standby of an embedded cluster: a streaming replica on the same machine.

    Made with ``pg_basebackup -R`` through the primary's private socket (the replication
    entry of ``initdb``'s trust configuration lets the local superuser stream); it has its own
    ``run/`` socket folder, runs as the same unprivileged user when we are root, and serves
    read-only queries while it replays the primary's write-ahead log. Without a replication
    slot: a standby stopped while the primary recycles the log it needs falls behind for good
    and is made again (``remove`` then ``create``), rather than the primary keeping log for it
    without limit.
    """

    def __init__(self, primary: EmbeddedCluster, root: Path | None = None) -> None:
        super().__init__(root if root is not None else standby_root(primary.root), port=primary.port)
        self.primary = primary

    def is_initialized(self) -> bool:
        return super().is_initialized() and (self.data_dir / "standby.signal").exists()

    def server_settings(self) -> dict[str, str]:
        """The primary's settings with half its memory: both servers share the machine."""
        settings = memory_settings()
        shared_mb = int(settings["shared_buffers"].removesuffix("MB"))
        settings["shared_buffers"] = f"{max(shared_mb // 2, 128)}MB"
        return settings

    def initialize(self) -> None:
        """Copy the running primary with ``pg_basebackup -R`` and point the copy at its own socket."""
        if not self.primary.is_running():
            raise DatabaseUnavailable(
                f"The embedded database in {self.primary.root} is not running; start it "
                "(`flask db start`) before making its standby."
            )
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)  # a copy that did not finish: pg_basebackup wants an empty folder
        self._make_private_dir(self.root)
        self._run(
            [
                str(self.bindir / "pg_basebackup"),
                "-D",
                str(self.data_dir),
                "-d",
                self.primary.conninfo("postgres"),
                "--write-recovery-conf",  # standby.signal, and primary_conninfo in postgresql.auto.conf
                "--wal-method=stream",
                "--checkpoint=fast",  # the default spread checkpoint can keep the copy waiting for minutes
                "--no-password",
            ]
        )
        settings = (
            "\n# geo311 embedded standby (later lines win over the primary's, copied above)\n"
            f"unix_socket_directories = '{self.socket_dir}'\n"
            "hot_standby = on\n"
            # Long report queries are not cancelled by the primary's vacuum removing rows they read.
            "hot_standby_feedback = on\n"
        )
        with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as handle:
            handle.write(settings)

    def create(self) -> None:
        """Make the standby (refused when one exists) and start it."""
        with self._lock():
            if self.is_initialized():
                raise DatabaseUnavailable(
                    f"A standby exists already in {self.data_dir}; start it, or remove it first to make a new copy."
                )
            log.info(
                "copying the embedded PostgreSQL cluster %s into the standby %s", self.primary.data_dir, self.data_dir
            )
            self.initialize()
            self.start()
            self.started_here = True

    def ensure_running(self) -> bool:
        """Start the standby if it is not running (it is never created here: see :meth:`create`)."""
        with self._lock():
            if not self.is_initialized():
                raise DatabaseUnavailable(
                    f"There is no standby in {self.root}; make one with `flask db standby create`."
                )
            if self.is_running():
                return False
            self.start()
            self.started_here = True
            return True

    def remove(self) -> None:
        """Stop the standby and delete its files (the primary is untouched)."""
        self.stop()
        with self._lock():
            shutil.rmtree(self.root, ignore_errors=True)
            if not self.socket_dir.is_relative_to(self.root):  # the short socket folder under /tmp
                shutil.rmtree(self.socket_dir, ignore_errors=True)
