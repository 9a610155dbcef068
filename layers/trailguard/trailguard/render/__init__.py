"""Alert renderers: one module per destination, all fed the same alert model."""

from trailguard.render.sns import RenderedAlert, render, subject_for

__all__ = ["RenderedAlert", "render", "subject_for"]
