"""The app's link to its library instance, created unbound and bound by the factory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask
from flask import current_app
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

if TYPE_CHECKING:
    from exchange.instance import Instance


class LibraryExtension:
    """Gives views the current app's instance; services open their own database sessions from it."""

    def init_app(self, app: Flask, instance: Instance) -> None:
        app.extensions["exchange"] = instance

    @property
    def instance(self) -> Instance:
        instance: Instance = current_app.extensions["exchange"]
        return instance


library = LibraryExtension()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
