#!/usr/bin/env python3
"""Runs sutrolabs/airflow-provider-census (hook, operator, sensor, deferrable trigger) against
syncrun: test_connection -> CensusOperator (trigger) -> CensusSensor (poll until done) ->
CensusTrigger (aiohttp poll) -> get_sync_run_info. The provider's code runs unchanged from its
public source; only Airflow's base classes are stood in (stubs/airflow).

usage: run_airflow_census.py PROVIDER_SRC URL TOKEN SYNC_ID
The connection is configured the way an Airflow user does it, AIRFLOW_CONN_CENSUS_DEFAULT with
host = syncrun's URL (scheme included, as the hook keeps a host that starts with http://)."""
import asyncio
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
src, url, token, sync_id = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sys.path[:0] = [os.path.join(here, "stubs"), src]
os.environ["AIRFLOW_CONN_CENSUS_DEFAULT"] = json.dumps({"conn_type": "census", "host": url, "password": token})

from airflow_provider_census.hooks.census import CensusHook  # noqa: E402
from airflow_provider_census.operators.census import CensusOperator  # noqa: E402
from airflow_provider_census.sensors.census import CensusSensor  # noqa: E402
from airflow_provider_census.triggers.census import CensusTrigger  # noqa: E402

failed = 0


def step(name, fn):
    global failed
    try:
        result = fn()
        print(f"ok    {name}: {result!r}"[:300])
        return result
    except Exception as e:  # report and go on: every step is a finding
        failed += 1
        print(f"FAIL  {name}: {type(e).__name__}: {e}"[:600])
        return None


def test_connection():
    ok, message = CensusHook().test_connection()
    if not ok:
        raise RuntimeError(message)
    return message


step("hook.test_connection (GET /api/v1/syncs?page=1&per_page=1)", test_connection)
run_id = step("CensusOperator.execute (POST /api/v1/syncs/{id}/trigger)",
              lambda: CensusOperator(task_id="trigger", sync_id=sync_id).execute({}))
if run_id is not None:
    step("CensusSensor.execute (GET /api/v1/sync_runs/{id} until completed)",
         lambda: CensusSensor(task_id="wait", sync_run_id=run_id, poke_interval=0.5, timeout=60).execute({}))

    async def trigger_events():
        async for ev in CensusTrigger(sync_run_id=run_id, poll_interval=0.5).run():
            return ev.payload

    step("CensusTrigger.run (aiohttp GET /api/v1/sync_runs/{id})", lambda: asyncio.run(trigger_events()))
    step("hook.get_sync_run_info", lambda: CensusHook().get_sync_run_info(run_id))
    step("hook.get_sync_history_url", lambda: CensusHook().get_sync_history_url(sync_id, run_id))
sys.exit(1 if failed else 0)
