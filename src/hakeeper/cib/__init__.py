"""CIB XML in and out."""
