"""The web protocols that serve things: the Quart app factory and its routes."""
