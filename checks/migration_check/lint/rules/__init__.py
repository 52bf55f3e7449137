"""The lint rules, one module each (see lint/base.py). A new rule is a new module here; the
registry finds it."""
