"""A ``DedupeStore`` in Redis, shared by workers on any number of machines.

Each fingerprint's atomic step (see ``services.enrich.dedupe``) is one Lua script run with
EVALSHA; a batch goes out as one pipeline, one round trip, and the candidates' signatures
come back in a second one. Keys (every one with a TTL of the window plus the lateness,
refreshed on write):

    {prefix}:seq            the sequence counter (INCR)
    {prefix}:newest         the newest fetched_at seen, in microseconds
    {prefix}:ev:<event_id>  hash: owner, seq, at (fetched_at in microseconds), sig
    {prefix}:band:<key>     sorted set: event_id scored by its fetched_at

Band members are scored by fetched_at rather than seq so that the script can drop the
ones older than the newest fetched_at minus the window and the lateness whenever it touches
a band; seq is read from the member's record instead. The prefix is wrapped in braces, a
Redis Cluster hash tag, so all the keys the script touches live in one slot.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError

from services.enrich.dedupe import Registration, StoredSignature, from_micros, to_micros
from services.enrich.errors import DedupeStoreError
from services.enrich.fingerprint import Fingerprint

# KEYS: 1 counter, 2 newest, 3 the event's record, 4.. its band sets.
# ARGV: 1 event id, 2 owner, 3 fetched_at (us), 4 signature, 5 window (us), 6 ttl (ms),
#       7 the record key prefix (band members' records, same hash tag),
#       8 the newest fetched_at of the batch (us) on its last fingerprint, else 0: it moves
#       the horizon only after the batch, as in every store, 9 window plus lateness (us).
# Replies {owner, seq, at, member, member_seq, ...} with the earlier band members only when
# the record is the caller's own. Times stay strings: Lua would print 1.7e+15 for numbers.
_REGISTER: Final = """
local event_id, owner, at_text = ARGV[1], ARGV[2], ARGV[3]
local at, window, ttl = tonumber(at_text), tonumber(ARGV[5]), ARGV[6]
local retention = tonumber(ARGV[9])
local newest = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[8]) > newest then
  redis.call('SET', KEYS[2], ARGV[8], 'PX', ttl)
end
local horizon = string.format('(%.0f', newest - retention)

local function earlier(own_seq, reply)
  local seen = {}
  for i = 4, #KEYS do
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', horizon)
    for _, member in ipairs(redis.call('ZRANGE', KEYS[i], 0, -1)) do
      if not seen[member] then
        seen[member] = true
        local seq = redis.call('HGET', ARGV[7] .. member, 'seq')
        if seq and tonumber(seq) < own_seq then
          reply[#reply + 1] = member
          reply[#reply + 1] = seq
        end
      end
    end
  end
  return reply
end

-- A record older than the horizon counts as evicted, as in the other stores.
local record = redis.call('HMGET', KEYS[3], 'owner', 'seq', 'at')
if record[1] and tonumber(record[3]) >= newest - retention
    and (record[1] == owner or tonumber(record[3]) >= at - window) then
  if record[1] ~= owner then
    return {record[1], record[2], record[3]}
  end
  return earlier(tonumber(record[2]), {record[1], record[2], record[3]})
end

local seq = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('HSET', KEYS[3], 'owner', owner, 'seq', seq, 'at', at_text, 'sig', ARGV[4])
redis.call('PEXPIRE', KEYS[3], ttl)
local reply = earlier(seq, {owner, seq, at_text})
for i = 4, #KEYS do
  redis.call('ZADD', KEYS[i], at_text, event_id)
  redis.call('PEXPIRE', KEYS[i], ttl)
end
return reply
"""


class RedisDedupeStore:
    """Dedupe state in Redis under ``prefix``; the client must not decode responses."""

    def __init__(self, client: Redis, *, prefix: str = "newsflow:dedupe") -> None:
        if client.connection_pool.connection_kwargs.get("decode_responses"):
            raise ValueError("the dedupe store needs a client with decode_responses=False")
        self._client = client
        self._base = "{" + prefix + "}"
        self._script = client.register_script(_REGISTER)

    def _record_key(self, event_id: str) -> str:
        return f"{self._base}:ev:{event_id}"

    async def register(
        self,
        fingerprints: Sequence[Fingerprint],
        *,
        window: timedelta,
        lateness: timedelta = timedelta(0),
    ) -> list[Registration]:
        """Register the batch in one pipeline of scripts (see ``services.enrich.dedupe``)."""
        if not fingerprints:
            return []
        try:
            replies = await self._run_scripts(fingerprints, window, lateness)
            if any(isinstance(reply, NoScriptError) for reply in replies):
                # The server lost its script cache; registering again is idempotent.
                self._script.sha = await self._client.script_load(_REGISTER)
                replies = await self._run_scripts(fingerprints, window, lateness)
        except RedisError as exc:
            raise DedupeStoreError(f"dedupe store failed: {exc}") from exc
        for reply in replies:
            if isinstance(reply, Exception):
                raise DedupeStoreError(f"dedupe store failed: {reply}") from reply
        return [_registration(reply) for reply in replies]

    async def _run_scripts(
        self, fingerprints: Sequence[Fingerprint], window: timedelta, lateness: timedelta
    ) -> list[Any]:
        window_us = window // timedelta(microseconds=1)
        retention = window + lateness
        ttl_ms = max(1, retention // timedelta(milliseconds=1))
        record_prefix = f"{self._base}:ev:"
        newest = max(to_micros(fingerprint.fetched_at) for fingerprint in fingerprints)
        last = len(fingerprints) - 1
        async with self._client.pipeline(transaction=False) as pipe:
            for index, fingerprint in enumerate(fingerprints):
                keys = [
                    f"{self._base}:seq",
                    f"{self._base}:newest",
                    self._record_key(fingerprint.event_id),
                    *(f"{self._base}:band:{band}" for band in fingerprint.bands),
                ]
                args: list[bytes | str | int] = [
                    fingerprint.event_id,
                    fingerprint.owner,
                    to_micros(fingerprint.fetched_at),
                    fingerprint.signature,
                    window_us,
                    ttl_ms,
                    record_prefix,
                    newest if index == last else 0,
                    retention // timedelta(microseconds=1),
                ]
                pipe.evalsha(self._script.sha, len(keys), *keys, *args)
            return await pipe.execute(raise_on_error=False)

    async def signatures(self, event_ids: Collection[str]) -> dict[str, StoredSignature]:
        """The records of those event ids still held (one round trip)."""
        wanted = list(event_ids)
        if not wanted:
            return {}
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for event_id in wanted:
                    pipe.hmget(self._record_key(event_id), ["owner", "seq", "at", "sig"])
                rows = await pipe.execute()
        except RedisError as exc:
            raise DedupeStoreError(f"dedupe store failed: {exc}") from exc
        found = {}
        for event_id, (owner, seq, at, signature) in zip(wanted, rows, strict=True):
            if owner is not None:
                found[event_id] = StoredSignature(
                    owner.decode(), int(seq), from_micros(int(at)), bytes(signature)
                )
        return found


def _registration(reply: list[Any]) -> Registration:
    owner, seq, at, *members = reply
    earlier = tuple((members[i].decode(), int(members[i + 1])) for i in range(0, len(members), 2))
    return Registration(
        owner.decode(), int(seq), from_micros(int(at)), tuple(sorted(earlier, key=_by_seq))
    )


def _by_seq(member: tuple[str, int]) -> int:
    return member[1]
