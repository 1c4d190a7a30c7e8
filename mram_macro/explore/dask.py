"""The Dask cluster of a sweep: a local one (one single-threaded worker process per job, bound
to 127.0.0.1) or a running scheduler given by address."""

from __future__ import annotations

import contextlib
import logging

__all__ = ["explore_client"]


@contextlib.contextmanager
def explore_client(scheduler: str | None, *, workers: int):
    """A :class:`distributed.Client` for the sweep, closed (with its local cluster) on exit."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler, timeout="20s") as client:
            yield client
        return
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None,
                           silence_logs=logging.ERROR)
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()
