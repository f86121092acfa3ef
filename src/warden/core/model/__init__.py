"""Model traffic: the APIs agents use to talk to models, and the policy that governs them (pure)."""
