#!/usr/bin/env python3
"""Runs PrefectHQ/prefect-census against syncrun: the CensusSync job block through the
run_census_sync flow (trigger, wait_for_completion, fetch_result), then the
trigger_census_sync_run_and_wait_for_completion flow (trigger task, wait_census_sync_completion,
get_census_sync_run_info task). Its code runs unchanged; only Prefect's flow/task/Block machinery
is stood in (stubs/prefect).

prefect-census has no base-URL setting: CensusClient builds an httpx.AsyncClient with
base_url="https://app.getcensus.com/api/v1". The runner sets that client's base_url to syncrun's
right after construction (configuration, not request code).

usage: run_prefect_census.py PREFECT_CENSUS_SRC URL TOKEN SYNC_ID"""
import asyncio
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
src, url, token, sync_id = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sys.path[:0] = [os.path.join(here, "stubs"), src]

import prefect_census.client  # noqa: E402
from prefect_census import CensusCredentials, CensusSync, run_census_sync  # noqa: E402
from prefect_census.syncs import trigger_census_sync_run_and_wait_for_completion  # noqa: E402

_init = prefect_census.client.CensusClient.__init__


def _pointed_init(self, api_key):
    _init(self, api_key)
    self.client.base_url = url.rstrip("/") + "/api/v1"


prefect_census.client.CensusClient.__init__ = _pointed_init
failed = 0


async def step(name, coro):
    global failed
    try:
        result = await coro
        print(f"ok    {name}: {result!r}"[:400])
        return result
    except Exception as e:
        failed += 1
        cause = f" (caused by {type(e.__cause__).__name__}: {e.__cause__})" if e.__cause__ else ""
        print(f"FAIL  {name}: {type(e).__name__}: {e}{cause}"[:700])
        return None


async def main():
    creds = CensusCredentials(api_key=token)
    sync = CensusSync(credentials=creds, sync_id=sync_id, poll_frequency_seconds=1, max_wait_seconds=60)
    await step("run_census_sync(CensusSync) (POST /syncs/{id}/trigger?force_full_sync=false, GET /sync_runs/{id})",
               run_census_sync(sync))
    await step("trigger_census_sync_run_and_wait_for_completion",
               trigger_census_sync_run_and_wait_for_completion(credentials=creds, sync_id=sync_id,
                                                                max_wait_seconds=60, poll_frequency_seconds=1))


asyncio.run(main())
sys.exit(1 if failed else 0)
