"""The shape every protected thing runs through: act, verify, alert (remediation),
the scheduled reconciler, the event handler's wrapper, and baseline capture."""
