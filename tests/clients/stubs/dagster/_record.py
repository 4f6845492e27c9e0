import dataclasses


def record(cls):
    return dataclasses.dataclass(frozen=True)(cls)
