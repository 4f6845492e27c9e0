def sync_compatible(fn):
    """Prefect's decorator runs the coroutine when called from sync code; every caller here awaits,
    so the coroutine function itself is returned, with .aio as Prefect exposes it."""
    fn.aio = fn
    return fn
