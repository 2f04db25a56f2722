"""The dashboard: a Solara app over the core and the Mesa model (``diffusion-sim dashboard``).

Layers import downwards only: the core never imports this package, and
importing the core does not need Solara. :mod:`.session`, :mod:`.params`,
:mod:`.learn` and :mod:`.views` are plain Python; :mod:`.components` and
:mod:`.page` are the Solara parts; :mod:`.server` starts the server.
"""
