"""Reports: each host's state kept by the sync, the readers over it, and the charts."""
