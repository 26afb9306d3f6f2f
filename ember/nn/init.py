"""``ember.nn.init``: parameter initialisation schemes (filled in by the nn work)."""
