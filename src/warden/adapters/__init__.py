"""Everything that does I/O: files, processes, databases, network, clocks."""
