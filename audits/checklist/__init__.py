"""The checklist: its items, their shapes and the institution's defaults, the hardened profiles."""
