from django.apps import AppConfig


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = "Zoom audits"

    def ready(self) -> None:
        # Connects the signal that keeps each host's report state in their department.
        from audits.reports import state as report_state  # noqa: F401
