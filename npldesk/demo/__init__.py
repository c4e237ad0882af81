"""The demo home: a synthetic branch network, its loan tape imported, demo people and a
casework history that follows the tape.

Place in the data flow: the demo stands where a bank's month-end exports and its staff's work
would. It calls the layers below it as any bank would be served by them (``synth`` writes the
files, ``tape`` imports them, ``analytics`` reads them, the casework services record the work)
and is called by a face only (``npldesk demo``). Layer: may import everything but the faces.

Modules: ``build`` (``build_demo``: the home, the book, the casework, what a face prints),
``casework`` (people, teams and the month-by-month history), ``hashers`` (the fast password
hasher the demo's own run chooses through settings).
"""

from npldesk.demo.build import DemoBook, DemoBuild, build_demo

__all__ = ["DemoBook", "DemoBuild", "build_demo"]
