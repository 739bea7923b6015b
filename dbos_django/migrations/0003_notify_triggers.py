"""PostgreSQL only: NOTIFY workers when a workflow is enqueued, and waiters when one finishes."""

from django.db import migrations

from ._postgres import postgres_only

CREATE = """
CREATE OR REPLACE FUNCTION dbos_workflow_notify() RETURNS trigger AS $$
BEGIN
    IF NEW.status = 'ENQUEUED' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'ENQUEUED') THEN
        PERFORM pg_notify('dbos_queue', COALESCE(NEW.queue_name, ''));
    ELSIF NEW.status IN ('SUCCESS', 'ERROR', 'CANCELLED', 'MAX_RECOVERY_ATTEMPTS_EXCEEDED')
          AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status) THEN
        PERFORM pg_notify('dbos_done', NEW.workflow_id);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER dbos_workflow_notify AFTER INSERT OR UPDATE OF status ON dbos_workflow_status
    FOR EACH ROW EXECUTE FUNCTION dbos_workflow_notify();
"""
DROP = """
DROP TRIGGER IF EXISTS dbos_workflow_notify ON dbos_workflow_status;
DROP FUNCTION IF EXISTS dbos_workflow_notify();
"""


class Migration(migrations.Migration):
    dependencies = [("dbos_django", "0002_queues")]
    operations = [postgres_only(CREATE, DROP)]
