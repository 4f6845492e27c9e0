#!/usr/bin/env python3
"""Runs dagster-census's CensusResource (dagster-io/dagster python_modules/libraries/dagster-census)
against syncrun: fetch_census_workspace_data (list syncs, paged) -> trigger_sync_and_poll (get sync,
source, destination, trigger, poll the run until it ends). Its code runs unchanged; only Dagster's
ConfigurableResource and a few names are stood in (stubs/dagster).

dagster-census has no base-URL setting (api_base_url is a property returning
https://app.getcensus.com/api/v1), so the resource is subclassed with that one property overridden,
as a user pointing it elsewhere would; its request code is untouched.

usage: run_dagster_census.py DAGSTER_CENSUS_SRC URL TOKEN SYNC_ID"""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
src, url, token, sync_id = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sys.path[:0] = [os.path.join(here, "stubs"), src]

from dagster_census.resources import CensusResource  # noqa: E402


class SyncrunCensusResource(CensusResource):
    @property
    def api_base_url(self) -> str:
        return url.rstrip("/") + "/api/v1"


failed = 0


def step(name, fn):
    global failed
    try:
        result = fn()
        print(f"ok    {name}: {result!r}"[:400])
        return result
    except Exception as e:
        failed += 1
        print(f"FAIL  {name}: {type(e).__name__}: {e}"[:600])
        return None


census = SyncrunCensusResource(api_key=token, request_max_retries=0)
step("fetch_census_workspace_data (GET /api/v1/syncs, pages)", census.fetch_census_workspace_data)
step("trigger_sync_and_poll (GET syncs/{id}, sources/{id}, destinations/{id}, POST trigger, GET sync_runs/{id})",
     lambda: census.trigger_sync_and_poll(sync_id, poll_interval=0.5, poll_timeout=60))
sys.exit(1 if failed else 0)
