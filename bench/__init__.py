"""Speed benchmarks: ``make bench`` (``python -m bench.run``).

Each section measures one part of the engine and reports rows of figures, each
with the size of the problem it was measured on. Figures are reported, never
asserted: speed depends on the machine, and the report says which one.
"""
