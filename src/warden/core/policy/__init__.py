"""Policy: YAML text -> validated model -> compiled rules -> verdicts.

``load`` (pydantic + YAML, slow to import) runs only when a policy changes; the compiled
form (:mod:`.compiled`) is plain data that pickles, so hooks load it without pydantic.
"""
