SECRET_KEY = "sample"
INSTALLED_APPS = ["django.contrib.contenttypes", "dbos_django", "shopapp"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "sample.sqlite3"}}
DBOS = {"APPLICATION_NAME": "sample"}
USE_TZ = True
