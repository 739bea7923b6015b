"""PostgreSQL only: NOTIFY waiters when a message, an event value or a stream value arrives."""

from django.db import migrations

from ._postgres import postgres_only

CREATE = """
CREATE OR REPLACE FUNCTION dbos_message_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('dbos_message', NEW.destination_id || '::' || NEW.topic);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER dbos_message_notify AFTER INSERT ON dbos_message
    FOR EACH ROW EXECUTE FUNCTION dbos_message_notify();

CREATE OR REPLACE FUNCTION dbos_event_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('dbos_event', NEW.workflow_id || '::' || NEW.key);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER dbos_event_notify AFTER INSERT OR UPDATE ON dbos_event
    FOR EACH ROW EXECUTE FUNCTION dbos_event_notify();

CREATE OR REPLACE FUNCTION dbos_stream_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('dbos_stream', NEW.workflow_id || '::' || NEW.key);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER dbos_stream_notify AFTER INSERT ON dbos_stream
    FOR EACH ROW EXECUTE FUNCTION dbos_stream_notify();
"""
DROP = """
DROP TRIGGER IF EXISTS dbos_message_notify ON dbos_message;
DROP FUNCTION IF EXISTS dbos_message_notify();
DROP TRIGGER IF EXISTS dbos_event_notify ON dbos_event;
DROP FUNCTION IF EXISTS dbos_event_notify();
DROP TRIGGER IF EXISTS dbos_stream_notify ON dbos_stream;
DROP FUNCTION IF EXISTS dbos_stream_notify();
"""


class Migration(migrations.Migration):
    dependencies = [("dbos_django", "0004_messages")]
    operations = [postgres_only(CREATE, DROP)]
