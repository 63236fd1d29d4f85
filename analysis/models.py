"""Analysis runs (to come: see the analysis issue). Pure statistics live in stats.py."""
