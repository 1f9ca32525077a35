"""The booking app: `create_app()` reads like a table of contents of the whole application."""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask

from booking import config as app_config


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build an app. `config` replaces instance/config.py and the environment (tests pass one)."""
    app = Flask(__name__, instance_relative_config=True, static_folder=None)  # booking/assets.py serves it
    app_config.load(app, config)
    _ensure_instance_folder(app)
    register_extensions(app)
    register_request_hooks(app)  # before the blueprints: it brings the <id:...> URL converter
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def _ensure_instance_folder(app: Flask) -> None:
    import os

    os.makedirs(app.instance_path, exist_ok=True)


def register_extensions(app: Flask) -> None:
    from booking import models  # noqa: F401  (registers the tables)
    from booking.auth.access import init_login
    from booking.extensions import csrf, db, mail, migrate
    from booking.models.locking import configure_engine
    from booking.ratelimit import init_ratelimit

    db.init_app(app)
    migrate.init_app(app, db, directory=_migrations_dir(), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    mail.init_app(app)
    init_login(app)
    init_ratelimit(app)
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def _migrations_dir() -> str:
    """migrations/ beside the package in a checkout; else the working directory's, as Flask-Migrate does."""
    import os

    beside = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")
    return beside if os.path.isdir(beside) else "migrations"


def register_blueprints(app: Flask) -> None:
    from booking.account import bp as account_bp
    from booking.admin import manage  # noqa: F401  (adds its views to the admin blueprint)
    from booking.admin import intake  # noqa: F401  (the service editor's intake questions)
    from booking.admin.routes import bp as admin_bp
    from booking.auth.routes import bp as auth_bp
    from booking.health import bp as health_bp
    from booking.home import bp as home_bp
    from booking.patient import bp as patient_bp
    from booking.profiles import bp as profiles_bp
    from booking.seo import bp as seo_bp
    from booking.staff import profile, schedule_edit  # noqa: F401  (add their views to the staff blueprint)
    from booking.staff.routes import bp as staff_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(patient_bp)
    app.register_blueprint(profiles_bp)
    app.register_blueprint(seo_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(admin_bp)


def register_errorhandlers(app: Flask) -> None:
    from booking.errors import init_errors

    init_errors(app)


def register_request_hooks(app: Flask) -> None:
    from booking import htmx
    from booking.assets import init_assets
    from booking.logs import init_logging
    from booking.request_limits import init_request_limits
    from booking.security import init_security
    from booking.views import init_templates

    from booking.services.outbox import init_outbox

    init_request_limits(app)
    app.after_request(htmx.finish_response)
    init_security(app)
    init_outbox(app)
    init_templates(app)
    init_logging(app)
    init_assets(app)


def register_commands(app: Flask) -> None:
    from booking.cli import init_commands

    init_commands(app)
