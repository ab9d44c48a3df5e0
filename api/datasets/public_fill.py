"""The bare server fills the public tree itself (nginx's layout asks for it with ``X-Cim-Public``).

When the bare server (its protocol offers zero copy sends, :mod:`api.zero_copy`; never behind nginx,
which sends ``X-Cim-Accel``) answers a read of a public revision-pinned content whose URL names the
content's SHA-256 (``?v=``), the content is put in the public tree in a thread, at most once per sweep
period: the next plain anonymous reads are answered from there by the protocol (:mod:`api.public_front`).
The tree checks after each fill that anonymous callers may read it (:meth:`PublicTree.share`), so who
asked does not matter.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

from starlette.types import Scope

from api.zero_copy import offers_zero_copy
from cim_platform.datasets.streaming import TileFile, TileStreamer

log = logging.getLogger(__name__)


class PublicFill:
    def __init__(self, streamer: TileStreamer) -> None:
        self.streamer = streamer
        self._every_s = max(streamer.access_ttl_s, 0.5)
        self._asked: dict[tuple[uuid.UUID, str], float] = {}

    def after_read(self, scope: Scope, dataset_id: uuid.UUID, tile: TileFile, accel: bool) -> None:
        """Put ``tile`` in the public tree soon if this read is one the protocol could answer from there."""
        if accel or not tile.public or not offers_zero_copy(scope):
            return
        if scope.get("query_string") != b"v=" + tile.sha256.encode():
            return
        key, now = (tile.revision_id, tile.path), time.monotonic()
        if now - self._asked.get(key, -self._every_s) < self._every_s:
            return
        if len(self._asked) >= 10_000:
            self._asked.clear()
        self._asked[key] = now
        future = asyncio.get_running_loop().run_in_executor(None, self.streamer.share_public, dataset_id, tile)
        future.add_done_callback(lambda done: self._done(done, dataset_id, tile))

    @staticmethod
    def _done(future: asyncio.Future[bool], dataset_id: uuid.UUID, tile: TileFile) -> None:
        if not future.cancelled() and future.exception() is not None:  # the answers do not depend on it
            log.warning(
                "could not put %s of dataset %s in the public tree", tile.path, dataset_id, exc_info=future.exception()
            )
