def cached_method(fn):
    return fn
