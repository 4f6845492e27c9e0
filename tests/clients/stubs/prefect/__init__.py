"""Minimal stand-in for Prefect (not installable here): flow/task decorators that run the wrapped
coroutine directly (task.submit returns a future whose result() awaits it), the Block base classes
as pydantic models, sync_compatible with its .aio. prefect-census's own code runs unchanged."""
import functools

__version__ = "stub"


class _Future:
    def __init__(self, coro):
        self._coro = coro

    async def result(self):
        return await self._coro


class _Task:
    def __init__(self, fn):
        self.fn = fn
        functools.update_wrapper(self, fn)

    def __call__(self, *args, wait_for=None, **kwargs):
        return self.fn(*args, **kwargs)

    async def submit(self, *args, wait_for=None, **kwargs):
        return _Future(self.fn(*args, **kwargs))


def task(fn=None, **options):
    if fn is None:
        return lambda f: _Task(f)
    return _Task(fn)


def flow(fn=None, **options):
    if fn is None:
        return lambda f: f
    return fn

