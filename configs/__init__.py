"""Bundled recipes, installed as `mdfs.configs` (found with importlib.resources; see mdfs/bundled.py)."""
