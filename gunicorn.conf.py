"""gunicorn's settings for geo311 (gunicorn reads this file from the folder it starts in).

The embedded PostgreSQL cluster belongs to the master process: ``on_starting`` starts it
(unless it runs already) before any worker is forked, and ``on_exit`` stops it only if the
master started it. Workers only connect (``core.database.supervise_cluster``), so a
worker's exit (SIGTERM, a reload, ``max_requests``, a crash) never stops the database
under the others. With ``DATABASE_URL`` set there is nothing to supervise.

Workers: ``WEB_CONCURRENCY`` when set, else 2 x cores + 1 (gunicorn's rule for sync
workers, which wait on the database as much as they compute). The app is built once in
the master and forked (``preload_app``): building it takes seconds (the city, the
geostatistics libraries), and a worker replaced after ``max_requests`` or a crash must
serve at once; the price is that a reload (SIGHUP) rereads this file but not the code,
so a new release is a restart. Command-line options win over everything here:
``gunicorn --workers 2 --bind 127.0.0.1:8000``.
"""

import gc
import os
import sys


def _workers() -> int:
    """``WEB_CONCURRENCY``, else 2 x cores + 1."""
    given = os.environ.get("WEB_CONCURRENCY", "").strip()
    if not given:
        return 2 * (os.cpu_count() or 1) + 1
    if not given.isdigit() or int(given) < 1:
        sys.exit(
            f"Error: WEB_CONCURRENCY is {given!r}; give a number of workers such as 4, or unset it for 2 x cores + 1."
        )
    return int(given)


wsgi_app = "app:create_app()"
workers = _workers()
# gunicorn's control socket (for gunicornc) is one per user by default: a second server, or
# the tests' servers, would take it over. Nothing here uses it.
control_socket_disable = True
preload_app = True


def _check_settings() -> None:
    """Refuse settings that cannot work with their one sentence (gunicorn would print a traceback)."""
    from core.errors import UserError
    from core.settings import Settings

    try:
        Settings.from_env()
    except UserError as exc:
        sys.exit(f"Error: {exc}")


_check_settings()


def on_starting(server) -> None:  # noqa: ANN001 (gunicorn's Arbiter)
    """Before the first worker: take charge of the embedded cluster."""
    from core.database import supervise_cluster
    from core.errors import UserError
    from core.settings import Settings

    try:
        cluster = supervise_cluster(Settings.from_env())
    except UserError as exc:
        raise RuntimeError(str(exc)) from exc  # gunicorn prints "Error: <the sentence>" and exits 1
    if cluster is None:
        server.log.info("database: DATABASE_URL (not ours to start or stop)")
    elif cluster.started_here:
        server.log.info(
            "database: started the embedded PostgreSQL in %s; stopped when this server exits", cluster.data_dir
        )
    else:
        server.log.info(
            "database: the embedded PostgreSQL in %s was running; left running when this server exits", cluster.data_dir
        )


def pre_fork(server, worker) -> None:  # noqa: ANN001
    """Freeze the preloaded app's objects out of the garbage collector's sight before forking.

    Otherwise every worker's collections, and its exit most of all (a full collection),
    touch all of them and copy the pages it shares with the master: Ctrl-C took 12 s on
    the 2-core demo machine with 5 workers, 3 s frozen (Python's gc.freeze advice for
    pre-forking servers).
    """
    gc.freeze()


def on_exit(server) -> None:  # noqa: ANN001
    """After the last worker: stop the embedded cluster if this master started it."""
    if server.reexec_pid:  # after USR2 the new master serves on with the same cluster
        server.log.info("database: left running for the new master (pid %s)", server.reexec_pid)
        return
    from core.database import end_supervision

    end_supervision()
