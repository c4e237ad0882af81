"""Reports: HTML, XLSX and PDF packs built from analytics results and casework selectors."""
