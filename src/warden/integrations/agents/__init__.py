"""One module per agent: its hook payloads -> Action, a Verdict -> its wire answer.

Each agent module is imported only when an event for that agent has to be answered (by the daemon
or, without one, in the hook process); the hook runner (:mod:`warden.integrations.hook`) names
them by string so the hot path does not import them.
"""
