// Runs the generated Synchronization API client of iTwin/synchronization-api-sample-app
// (src/clients/synchronizationClient, fetch-based) against syncrun, unchanged, in the app's own
// sequence: list the iModel's connections, read the storage connection, run it, list its runs
// (return=representation, sorted by startDateTime as the app does), poll the run until it
// completes; then a manifest-connection run (POST .../runs, Location) read back.
// The client is pointed at syncrun through its own setting, OpenAPI.BASE.
//
// usage: tsx run_itwin_sample.mts SAMPLE_APP_SRC URL TOKEN IMODEL_ID CONNECTION_UUID [--no-wait]
// --no-wait: the connection has no command (its runs wait for an outside runner): do not poll.
const [src, url, token, imodelId, connectionId, noWait] = process.argv.slice(2);
const client = await import(`${src}/src/clients/synchronizationClient/index.ts`);
const { OpenAPI, ConnectionsService, StorageConnectionsService, ManifestConnectionsService } = client;
OpenAPI.BASE = `${url.replace(/\/$/, '')}/synchronization`;
const auth = `Bearer ${token}`;
let failed = 0;

async function step<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    const result = await fn();
    console.log(`ok    ${name}: ${JSON.stringify(result)}`.slice(0, 400));
    return result;
  } catch (e: any) {
    failed++;
    const detail = e?.status ? ` status=${e.status} body=${JSON.stringify(e.body)}` : '';
    console.log(`FAIL  ${name}: ${e?.name}: ${e?.message}${detail}`.slice(0, 600));
    return undefined;
  }
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

await step('ConnectionsService.getConnections (GET /imodels/connections?imodelId=)', () =>
  ConnectionsService.getConnections(imodelId, auth));
await step('StorageConnectionsService.getStorageConnection', () =>
  StorageConnectionsService.getStorageConnection(connectionId, auth));
await step('StorageConnectionsService.runStorageConnection (POST .../run)', () =>
  StorageConnectionsService.runStorageConnection(connectionId, auth));
const runs: any = await step('StorageConnectionsService.getStorageConnectionRuns (return=representation)', () =>
  StorageConnectionsService.getStorageConnectionRuns(connectionId, auth, 'return=representation'));
const latest: any = await step("the app's getLatestRun: runs sorted by startDateTime, newest", async () =>
  runs.runs.sort((a: any, b: any) => b.startDateTime.localeCompare(a.startDateTime))[0]);
if (latest && noWait !== '--no-wait') {
  await step('poll StorageConnectionsService.getStorageConnectionRun until Completed', async () => {
    for (let i = 0; i < 120; i++) {
      const r: any = await StorageConnectionsService.getStorageConnectionRun(connectionId, latest.id, auth);
      if (r.run.state === 'Completed') return { state: r.run.state, result: r.run.result };
      await sleep(500);
    }
    throw new Error('run did not complete within 60 s');
  });
}
const location: any = await step('ManifestConnectionsService.createManifestConnectionRun (Location)', () =>
  ManifestConnectionsService.createManifestConnectionRun(connectionId, auth));
if (typeof location === 'string') {
  const runId = location.replace(/\/$/, '').split('/').pop()!;
  await step('ManifestConnectionsService.getManifestConnectionRun (the Location run)', () =>
    ManifestConnectionsService.getManifestConnectionRun(connectionId, runId, auth));
}
await step('ManifestConnectionsService.getManifestConnection', () =>
  ManifestConnectionsService.getManifestConnection(connectionId, auth));
process.exit(failed ? 1 : 0);
