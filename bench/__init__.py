"""Side-by-side performance benchmark (make bench): see bench/run.py."""
