"""The pure domain: trails and baselines, drift and repair order, the event model,
the alert model, guards and storm damping. No boto3 here."""
