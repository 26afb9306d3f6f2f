"""The machinery iterable- and map-style DataPipes share (one mixin in
ember/utils/data/datapipes): separate registries per family, the same errors as before."""

import pytest

from ember.utils.data import IterDataPipe, MapDataPipe
from ember.utils.data.datapipes.iter import IterableWrapper
from ember.utils.data.datapipes.map import SequenceWrapper


def test_each_family_keeps_its_own_functions():
    assert IterDataPipe.functions is not MapDataPipe.functions
    assert "filter" in IterDataPipe.functions and "filter" not in MapDataPipe.functions
    with pytest.raises(AttributeError, match="'SequenceWrapperMapDataPipe' object has no attribute "
                                                        "'filter'"):
        SequenceWrapper([1]).filter


def test_registering_a_taken_name_fails():
    class Again(IterDataPipe):
        def __init__(self, dp):
            self.dp = dp

        def __iter__(self):
            return iter(self.dp)

    with pytest.raises(Exception, match="Unable to add DataPipe function name map"):
        IterDataPipe.register_datapipe_as_function("map", Again)
    with pytest.raises(Exception, match="Unable to add DataPipe function name batch"):
        MapDataPipe.register_datapipe_as_function("batch", Again)


def test_repr_hooks_and_dir():
    dp = IterableWrapper([1])
    assert repr(dp) == str(dp) == "IterableWrapperIterDataPipe"
    assert "map" in dir(dp) and "map" in dir(SequenceWrapper([1]))
    MapDataPipe.repr_hook = staticmethod(lambda d: "hooked")
    try:
        assert repr(SequenceWrapper([1])) == "hooked" and repr(dp) == "IterableWrapperIterDataPipe"
    finally:
        MapDataPipe.repr_hook = None


@pytest.mark.parametrize("op", ["concat", "zip"])
def test_map_concat_and_zip_check_their_sources(op):
    from ember.utils.data.datapipes import map as mp

    cls = mp.ConcaterMapDataPipe if op == "concat" else mp.ZipperMapDataPipe
    a = SequenceWrapper([1, 2])
    assert len(getattr(a, op)(SequenceWrapper([3]))) == (3 if op == "concat" else 1)
    with pytest.raises(ValueError, match="Expected at least one DataPipe"):
        cls()
    with pytest.raises(TypeError, match="Expected all inputs to be `MapDataPipe`"):
        getattr(a, op)(IterableWrapper([1]))
