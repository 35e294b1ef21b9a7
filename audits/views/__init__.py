"""The pages: dashboard, jobs, hardening, helpdesk, lookups, reports, Zoom's webhooks, and
what they show."""
