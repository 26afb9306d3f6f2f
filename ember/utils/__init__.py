"""ember.utils: data loading and other utilities (subpackages load on first use)."""


def __getattr__(name):
    # Lazy: `ember.utils.data` etc. import on first attribute access, keeping this light.
    import importlib

    if not name.startswith("_"):
        try:
            return importlib.import_module(f"ember.utils.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"ember.utils.{name}":
                raise
    raise AttributeError(f"module 'ember.utils' has no attribute '{name}'")
