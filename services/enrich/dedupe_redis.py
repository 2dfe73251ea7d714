"""A ``DedupeStore`` in Redis, shared by workers on any number of machines.

Each fingerprint's atomic step (see ``services.enrich.dedupe``) is one Lua script run with
EVALSHA; a batch goes out as one pipeline, one round trip, and the candidates' signatures
come back in a second one. Keys (every one with a TTL of the longest span the retention
holds, refreshed on write):

    {prefix}:seq            the sequence counter (INCR)
    {prefix}:horizon        the fetched_at below which records are forgotten, in microseconds
    {prefix}:lanes          hash: lane -> the newest fetched_at registered in it
    {prefix}:by_time        sorted set: the event ids held, scored by fetched_at
    {prefix}:ev:<event_id>  hash: owner, seq, at (fetched_at in microseconds), sig
    {prefix}:band:<key>     sorted set: event_id scored by its fetched_at

The last script of a batch moves the batch's lanes and sets the horizon from them (see
``Retention``), lowered to the fetched_at of the newest records the minimum keeps (with
records fetched at the same moment as the last of them, which the other stores may forget);
the batch itself is judged under the horizon of the batches before it, as in every store.
Band members are scored by fetched_at rather than seq so that the script can drop the ones
below the horizon whenever it touches a band; seq is read from the member's record instead.
The prefix is wrapped in braces, a Redis Cluster hash tag, so all the keys the script
touches live in one slot.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError

from services.enrich.dedupe_store import (
    WINDOW_ONLY,
    RegisterStep,
    Registration,
    Retention,
    StoredSignature,
    batch_lanes,
    from_micros,
    to_micros,
)
from services.enrich.errors import DedupeStoreError
from services.enrich.fingerprint import Fingerprint

# KEYS: 1 counter, 2 horizon, 3 lanes, 4 by time, 5 the event's record, 6.. its band sets.
# ARGV: 1 event id, 2 owner, 3 fetched_at (us), 4 signature, 5 window (us), 6 ttl (ms),
#       7 the record key prefix (band members' records, same hash tag),
#       8 window plus lateness (us), 9 max skew (us), 10 min records; on the batch's last
#       fingerprint, 11.. pairs of lane and its newest fetched_at in the batch (us).
# Replies {owner, seq, at, member, member_seq, ...} with the earlier band members only when
# the record is the caller's own. Times stay strings: Lua would print 1.7e+15 for numbers.
_REGISTER: Final = """
local event_id, owner, at_text = ARGV[1], ARGV[2], ARGV[3]
local at, window, ttl = tonumber(at_text), tonumber(ARGV[5]), ARGV[6]
local KEEP_ALL = -9007199254740992
local horizon = tonumber(redis.call('GET', KEYS[2]) or KEEP_ALL)
local below = string.format('(%.0f', horizon)

local function earlier(own_seq, reply)
  local seen = {}
  for i = 6, #KEYS do
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', below)
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

local function register()
  -- A record below the horizon counts as evicted, as in the other stores.
  local record = redis.call('HMGET', KEYS[5], 'owner', 'seq', 'at')
  if record[1] and tonumber(record[3]) >= horizon
      and (record[1] == owner or tonumber(record[3]) >= at - window) then
    if record[1] ~= owner then
      return {record[1], record[2], record[3]}
    end
    return earlier(tonumber(record[2]), {record[1], record[2], record[3]})
  end
  local seq = redis.call('INCR', KEYS[1])
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('HSET', KEYS[5], 'owner', owner, 'seq', seq, 'at', at_text, 'sig', ARGV[4])
  redis.call('PEXPIRE', KEYS[5], ttl)
  redis.call('ZADD', KEYS[4], at_text, event_id)
  redis.call('PEXPIRE', KEYS[4], ttl)
  local reply = earlier(seq, {owner, seq, at_text})
  for i = 6, #KEYS do
    redis.call('ZADD', KEYS[i], at_text, event_id)
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
  return reply
end

-- The batch's last step moves its lanes and sets the horizon of the next batch: the
-- retention's, lowered to keep the min records newest records.
local function move_lanes()
  for i = 11, #ARGV, 2 do
    local held = redis.call('HGET', KEYS[3], ARGV[i])
    if not held or tonumber(ARGV[i + 1]) > tonumber(held) then
      redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
    end
  end
  redis.call('PEXPIRE', KEYS[3], ttl)
  local slowest, newest
  for _, value in ipairs(redis.call('HVALS', KEYS[3])) do
    value = tonumber(value)
    if not slowest or value < slowest then slowest = value end
    if not newest or value > newest then newest = value end
  end
  local next_horizon = math.max(slowest, newest - tonumber(ARGV[9])) - tonumber(ARGV[8])
  local min_records = tonumber(ARGV[10])
  if min_records > 0 then
    local kept = redis.call('ZREVRANGE', KEYS[4], min_records - 1, min_records - 1, 'WITHSCORES')
    if #kept == 0 then
      next_horizon = KEEP_ALL
    else
      next_horizon = math.min(next_horizon, tonumber(kept[2]))
    end
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', string.format('(%.0f', next_horizon))
  redis.call('SET', KEYS[2], string.format('%.0f', next_horizon), 'PX', ttl)
end

local reply = register()
if #ARGV > 10 then
  move_lanes()
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
        retention: Retention = WINDOW_ONLY,
        lanes: Mapping[str, datetime] | None = None,
    ) -> list[Registration]:
        """Register the batch in one pipeline of scripts (see ``services.enrich.dedupe``)."""
        if not fingerprints:
            return []
        step = RegisterStep(window, retention, batch_lanes(fingerprints, lanes))
        try:
            replies = await self._run_scripts(fingerprints, step)
            if any(isinstance(reply, NoScriptError) for reply in replies):
                # The server lost its script cache; registering again is idempotent.
                self._script.sha = await self._client.script_load(_REGISTER)
                replies = await self._run_scripts(fingerprints, step)
        except RedisError as exc:
            raise DedupeStoreError(f"dedupe store failed: {exc}") from exc
        for reply in replies:
            if isinstance(reply, Exception):
                raise DedupeStoreError(f"dedupe store failed: {reply}") from reply
        return [_registration(reply) for reply in replies]

    async def _run_scripts(
        self, fingerprints: Sequence[Fingerprint], step: RegisterStep
    ) -> list[Any]:
        micros = timedelta(microseconds=1)
        window, retention = step.window, step.retention
        ttl_ms = max(1, retention.span(window) // timedelta(milliseconds=1))
        record_prefix = f"{self._base}:ev:"
        common: list[bytes | str | int] = [
            window // micros,
            ttl_ms,
            record_prefix,
            (window + retention.lateness) // micros,
            retention.max_skew // micros,
            retention.min_records,
        ]
        moved: list[bytes | str | int] = [
            part for lane, at in step.lanes.items() for part in (lane, to_micros(at))
        ]
        last = len(fingerprints) - 1
        async with self._client.pipeline(transaction=False) as pipe:
            for index, fingerprint in enumerate(fingerprints):
                keys = [
                    f"{self._base}:seq",
                    f"{self._base}:horizon",
                    f"{self._base}:lanes",
                    f"{self._base}:by_time",
                    self._record_key(fingerprint.event_id),
                    *(f"{self._base}:band:{band}" for band in fingerprint.bands),
                ]
                args: list[bytes | str | int] = [
                    fingerprint.event_id,
                    fingerprint.owner,
                    to_micros(fingerprint.fetched_at),
                    fingerprint.signature,
                    *common,
                    *(moved if index == last else ()),
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
