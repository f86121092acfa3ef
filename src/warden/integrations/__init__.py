"""The driving side: everything that receives an agent's action and calls the gateway."""
