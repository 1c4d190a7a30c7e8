"""Run independent pieces of verification work as Dask tasks: regression cases
(:mod:`verif.regress`) and Monte Carlo study cases (:mod:`verif.bench_golden`), one task each.

By default the work runs on a :class:`distributed.LocalCluster` of this machine (one
single-threaded worker process per job: a cocotb run sets process-wide environment variables, so
tasks must not share a process). With ``scheduler="tcp://host:8786"`` it runs on a cluster
started by hand::

    dask scheduler                                  # on one machine (port 8786)
    dask worker tcp://host:8786 --nthreads 1        # on each machine, from the repository root
                                                    # with its .venv active (`make setup`)

Workers need the same checkout and tools (``make setup``), and on other machines they build
their own simulators in their own ``build/``; results and coverage come back to the client as
task results, so no shared file system is needed. Progress is shown with a tqdm bar.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

__all__ = ["dask_client", "run_tasks", "check_scheduler_address"]

_ADDRESS = re.compile(r"^(tcp|tls|ws|wss|inproc)://[^\s/:]+(:\d{1,5})?$")


def check_scheduler_address(address: str) -> str:
    """``address`` if it looks like a Dask scheduler address (``tcp://host:8786``)."""
    if not isinstance(address, str) or not _ADDRESS.match(address):
        raise ValueError(f"SCHEDULER must be a Dask scheduler address like tcp://host:8786, "
                         f"not {address!r}")
    return address


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, *, workers: int = 2,
                timeout_s: float = 20.0) -> Iterator[Any]:
    """A connected :class:`distributed.Client`: to ``scheduler`` if given, else to a new
    LocalCluster of ``workers`` single-threaded processes listening on 127.0.0.1 only.

    The cluster (if created here) and the client are closed when the block ends.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        check_scheduler_address(scheduler)
        try:
            client = Client(scheduler, timeout=f"{timeout_s}s")
        except OSError as exc:
            raise RuntimeError(f"cannot reach the Dask scheduler at {scheduler} ({exc}); start "
                               f"one with `dask scheduler` and workers with `dask worker "
                               f"{scheduler} --nthreads 1`") from None
        try:
            yield client
        finally:
            client.close()
        return
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, not {workers!r}")
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def run_tasks(client, fn: Callable, items: Sequence, *, desc: str,
              progress: bool = True) -> list:
    """``[fn(item) for item in items]``, each call one Dask task on ``client``'s cluster.

    Results come back in the order of ``items``; the bar advances as tasks finish, in any
    order. An exception raised by a task is re-raised here (catch it inside ``fn`` to record
    it as a result instead).
    """
    from distributed import as_completed
    from tqdm import tqdm

    futures = client.map(fn, list(items), pure=False)
    where = {f.key: i for i, f in enumerate(futures)}
    results: list = [None] * len(futures)
    with tqdm(total=len(futures), desc=desc, unit="task", disable=not progress,
              file=sys.stderr, dynamic_ncols=True) as bar:
        for future in as_completed(futures):
            results[where[future.key]] = future.result()
            bar.update()
    return results
