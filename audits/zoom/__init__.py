"""Zoom's API: the client (one function per call, one error type) and the shared rate budget."""
