"""A Zoom REST API simulator, its own program: `python -m zoomsim --port 9100`.

It imports nothing from Django, so it runs beside the portal as Zoom's cloud would.
"""

# The simulator's demo credentials: the portal uses them in embedded mode with no configuration.
DEMO_ACCOUNT_ID = "uToRoNtOdEmOaCcOuNt001"
DEMO_CLIENT_ID = "zoomsim-demo-client"
DEMO_CLIENT_SECRET = "zoomsim-demo-secret"  # noqa: S105 - a public demo credential
DEFAULT_PORT = 9100
