"""Failed credential guesses are counted and, past a limit, refused with 429 before the credential is even
looked at, so a burst of guesses learns nothing.

Counted per client address (the real client's, behind the shipped gateway: see deploy/) and per API-key prefix
(the first characters of the presented key; only wrong keys are refused for it), with the
`limits` library: in memory for the embedded default, in Redis when ``XBM_RATE_LIMIT_URL`` is set (so every
replica of plans counts the same guesses). Successful exchanges are never counted."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from shared.errors import TooManyRequests, Unauthorized

#: attempts from one address are checked and counted one at a time (striped, so memory stays bounded)
STRIPES = 256
#: how much of a presented API key identifies "the same key" for counting (xbm_ plus 8 characters)
PREFIX_LENGTH = 12


def storage_url(url: str | None) -> str:
    """``redis://…`` as the asynchronous storage `limits` expects; memory when no URL is given."""
    if not url:
        return "async+memory://"
    return url if url.startswith("async+") else f"async+{url}"


class GuessLimiter:
    def __init__(self, url: str | None, per_address: str, per_key: str):
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_url(url)))
        self.per_address: RateLimitItem = parse(per_address)
        self.per_key: RateLimitItem = parse(per_key)
        self._stripes = [asyncio.Lock() for _ in range(STRIPES)]

    @asynccontextmanager
    async def attempt(self, what: str, address: str, key: str | None = None) -> AsyncIterator[None]:
        """Refuse (429) while the address has used up its failed attempts; count the attempt when the block raises
        Unauthorized. Attempts from one address run one after the other through check, credential and count, so
        a burst sent at once is counted as if sent in sequence instead of all passing the check together.

        A key's prefix (what anyone who ever saw the key knows) never locks the key: the right key is always
        served from an address that is not limited, and only wrong keys for that prefix meet 429 once the
        prefix has used up its failed attempts."""
        stripe = int.from_bytes(hashlib.blake2b(f"{what}\x00{address}".encode(), digest_size=2).digest())
        async with self._stripes[stripe % STRIPES]:
            await self._check(self.per_address, (what, "address", address))
            try:
                yield
            except Unauthorized as wrong:
                await self.limiter.hit(self.per_address, what, "address", address)
                if key:
                    prefix = (what, "key", key[:PREFIX_LENGTH])
                    await self._check(self.per_key, prefix, cause=wrong)
                    await self.limiter.hit(self.per_key, *prefix)
                raise

    async def _check(self, item: RateLimitItem, ids: tuple[str, ...], cause: Exception | None = None) -> None:
        """429 with Retry-After while the bucket has used up its failed attempts."""
        if not await self.limiter.test(item, *ids):
            stats = await self.limiter.get_window_stats(item, *ids)
            retry_after = max(1, int(stats.reset_time - time.time()) + 1)
            raise TooManyRequests(
                "too many failed attempts from this address or for this key; retry later", retry_after=retry_after
            ) from cause
