"""``python -m bot.web``: run the web app on the configured host and port."""

from bot.settings import get_settings
from bot.web.app import create_app

if __name__ == "__main__":
    settings = get_settings()
    create_app().run(host=settings.web_host, port=settings.web_port, access_log=False, workers=1)
