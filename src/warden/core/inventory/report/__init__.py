"""Renderers of an :class:`~warden.core.inventory.model.Inventory`: pure functions from the graph to text."""
