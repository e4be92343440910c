"""A factory for the registry's test, imported only when a model of its kind loads."""


def load(manifest, version_dir, settings):
    return manifest.name, manifest.kind
