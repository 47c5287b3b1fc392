"""The HTTP service: translates requests into calls of the ``boundaryline`` package and back."""
