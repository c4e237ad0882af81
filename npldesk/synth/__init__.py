"""Synthetic branch networks: the demo and test data that the rest of npldesk reads.

Place in the data flow: ``synth`` is the first step, standing in for a bank's core-banking
export. ``generate()`` writes files, and ``npldesk org import`` / ``npldesk tape import`` read
them like any bank's data; nothing in npldesk reads the generator directly.

What it writes into ``out_dir``:

- ``org_units.csv``: the organisation file (``code,name,parent_code,level``): a city branch, five
  county branches and about 24 sub-branches.
- ``tape/YYYY-MM.<csv|parquet|xlsx>``: one file per month-end. Layout ``canonical``: the canonical
  columns (``npldesk.tape.schema``). Layout ``cn-core``: a Chinese core-banking export (Chinese
  headers and labels, GB18030 CSV; see ``layouts``), with borrowers' personal data in
  ``customers.<ext>``.

How: the book is drawn and moved in blocks of ``book.BLOCK_LOANS`` opening loans, each block
simulated over all months with NumPy and appended to every month's open file, so memory stays
that of one block whatever the size of the book. The same seed gives the same bytes.

Modules: ``profiles`` (every parameter, one dataclass per profile), ``org`` (the unit tree),
``people`` (names, ID numbers, phones, credit codes), ``book`` (the simulation), ``layouts``
(headers and value maps), ``render`` (rows to tables), ``textarrays`` (vectorised formatting),
``writers`` (CSV / Parquet / XLSX), ``generator`` (``generate()``, the entry point).

Layer: imports ``npldesk.core``, ``npldesk.tape.schema``, NumPy, PyArrow and XlsxWriter; never
Django, analytics, casework or web.
"""

from npldesk.synth.generator import SynthResult, generate
from npldesk.synth.layouts import LAYOUTS
from npldesk.synth.profiles import PROFILES

__all__ = ["LAYOUTS", "PROFILES", "SynthResult", "generate"]
