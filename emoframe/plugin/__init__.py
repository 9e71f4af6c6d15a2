"""The plugin room: everything a component and its plugin are held to, in one place.

``kinds`` (the one table of component kinds), ``components`` (the base classes and ``Params``),
``hookspecs`` (the pluggy hooks, one per kind), ``contract`` (the checks around every plugin call at
run time), ``registry`` (loading plugins and indexing their components) and ``scaffold`` (``emoframe
new plugin``). Plugin authors import ``emoframe`` and ``emoframe.testing``, never these modules.
"""
