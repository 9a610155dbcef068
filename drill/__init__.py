"""The local drill: trailguard's template, rules and handlers against an embedded moto AWS."""
