"""Keep the PostgreSQL-only zoo models off SQLite."""

POSTGRES_ONLY = {"sample"}


class PostgresOnlyRouter:
    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == "zoo" and model_name in POSTGRES_ONLY:
            return db == "postgres"
        return None
