"""The depositors' page: a local HTTP server (:mod:`.server`) with JSON endpoints over
:mod:`ballast.depositor` (:mod:`.api`) and a static page (``static/``: HTML, CSS, JavaScript,
charts drawn as inline SVG; no CDN, no web fonts). Started by ``ape run dashboard`` (``make dashboard``).
"""
