"""Alert renderers: one module per destination, all fed the same alert model.

sns (e-mail text and the trailguard.alert/1 document of document.py), eventbridge,
chat (Amazon Q Developer in chat applications) and asff (Security Hub); content.py
holds what they share: dedup key, links, ATT&CK technique, next steps.
"""

from trailguard.render.sns import RenderedAlert, render, subject_for

__all__ = ["RenderedAlert", "render", "subject_for"]
