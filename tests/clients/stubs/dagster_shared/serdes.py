def whitelist_for_serdes(cls):
    return cls
