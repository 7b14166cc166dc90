from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Departments and people"

    def ready(self) -> None:
        # Connect the sign-in signal receivers: failures counted for the lockout,
        # and the time of signing in kept for the session's absolute lifetime.
        from accounts import lockout, middleware  # noqa: F401, PLC0415 - late: the apps must be loaded first
