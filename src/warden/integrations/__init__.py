"""The driving side: everything that receives an agent's action or traffic and calls the gateway."""
