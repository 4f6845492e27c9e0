class NamespacedMetadataSet:
    pass
