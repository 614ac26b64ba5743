"""A bounded hand-off from the ETL's thread to a writer running in its own thread.

The writer (a PostGIS ``COPY``, a GDAL streamed write) consumes one long iterator while the
ETL prepares the next batch: numpy, shapely, Arrow, GDAL and libpq release the GIL, so the two
overlap. An error in the writer is raised in the ETL's thread at the next ``put`` or at
``close``; neither side waits on the other once it is gone.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator

__all__ = ["Cancelled", "Pipe"]


class Cancelled(Exception):
    """Raised inside the writer when the ETL gives up, so it stops instead of finishing."""


class Pipe[T]:
    """Items ``put`` here are yielded, in order, to ``consume`` running in a thread."""

    def __init__(self, consume: Callable[[Iterator[T]], None], *, name: str,
                 depth: int = 2) -> None:
        self.queue: queue.Queue[T | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self._cancelled = False
        self._consume = consume
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _items(self) -> Iterator[T]:
        while (item := self.queue.get()) is not None and not self._cancelled:
            yield item
        if self._cancelled:
            raise Cancelled("the write was abandoned")

    def _run(self) -> None:
        try:
            self._consume(self._items())
        except BaseException as exc:  # handed to the ETL's thread in put() / close()
            self.error = exc

    def put(self, item: T | None) -> None:
        """Hand over an item (None: the end); raise the writer's error if it failed.

        Waits while the queue is full, but only as long as the writer is alive: a writer that
        died leaves nobody to wait for.
        """
        self._offer(item)
        if self.error is not None:
            raise self.error

    def _offer(self, item: T | None) -> None:
        """Queue ``item`` as soon as there is room, unless the writer is gone."""
        while self.thread.is_alive():
            try:
                self.queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """Signal the end, wait for the writer to finish and raise what went wrong in it."""
        self.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def cancel(self) -> None:
        """Make the writer fail at its next item (a staged table is being thrown away: no
        reason to finish it, index included) and wait for it to stop."""
        self._cancelled = True
        self._offer(None)
        self.thread.join()
