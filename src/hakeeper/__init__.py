"""hakeeper: keeps a cloud's control plane highly available."""

__version__ = "0.1.0"
