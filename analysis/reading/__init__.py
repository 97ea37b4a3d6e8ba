"""Reading a sheet: tabs of raw cells to validated rows, cell-referenced problems and how each tab was read."""
