"""The app's link to its library instance, created unbound and bound by the factory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask
from flask import current_app
from flask import g
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from exchange.instance import Instance



class LibraryExtension:
    """Gives views the current app's instance and a request-scoped database session."""

    def init_app(self, app: Flask, instance: Instance) -> None:
        app.extensions["exchange"] = instance
        app.teardown_appcontext(self._close_session)

    @property
    def instance(self) -> Instance:
        instance: Instance = current_app.extensions["exchange"]
        return instance

    @property
    def session(self) -> Session:
        """The session of this request (read-only use; writes go through services)."""
        if "db_session" not in g:
            g.db_session = self.instance.db.session()
        session: Session = g.db_session
        return session

    @staticmethod
    def _close_session(_error: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


library = LibraryExtension()
login_manager = LoginManager()
csrf = CSRFProtect()
