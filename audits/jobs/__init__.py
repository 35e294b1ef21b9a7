"""Jobs and their runners: the rows' machinery, the sync, the profile's plan, hardening,
meetings, retention."""
