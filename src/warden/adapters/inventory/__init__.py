"""The file-system side of ``warden inventory``: bounded file access, one detector per source of
authority (agent configs, MCP configs, instructions, CI workflows, packages, branch protection),
and the scan that runs them and asks the real policy engine to classify every path."""
