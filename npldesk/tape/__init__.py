"""The loan tape: month-end loan data in, validated, stored.

Data flow: a core-banking export (CSV, XLSX, Parquet; any column names) is read by ``readers``,
turned into canonical columns by a ``mapping``, checked by ``checks`` (every bad row reported),
and written by ``store`` as one Parquet snapshot per month-end with lineage in the manifest.
``importer`` runs those steps; ``org`` holds the organisation tree the tape refers to.
Everything downstream (analytics, casework) reads only canonical columns from the store.
"""
