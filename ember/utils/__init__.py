"""ember.utils: data loading and other utilities (subpackages load on first use)."""
