-- Undoes 0004_job_queue: the queue's tables, functions and types. Never while a job waits
-- or runs: those jobs would be lost (mail already in the outbox stays there, undelivered).
SET LOCAL lock_timeout = '5s';

DO $$
BEGIN
    IF EXISTS (SELECT FROM procrastinate_jobs WHERE status IN ('todo', 'doing')) THEN
        RAISE EXCEPTION 'background jobs are waiting or running'
            USING HINT = 'Let the worker finish them (flask jobs list), then roll back.';
    END IF;
END
$$;

-- The functions that use the tables' row types, then the tables (and their triggers), then
-- the trigger functions and the types.
DROP FUNCTION procrastinate_cancel_job_v1;
DROP FUNCTION procrastinate_defer_jobs_v1;
DROP FUNCTION procrastinate_defer_periodic_job_v2;
DROP FUNCTION procrastinate_fetch_job_v2;
DROP FUNCTION procrastinate_finish_job_v1;
DROP FUNCTION procrastinate_prune_stalled_workers_v1;
DROP FUNCTION procrastinate_register_worker_v1;
DROP FUNCTION procrastinate_retry_job_v1;
DROP FUNCTION procrastinate_retry_job_v2;
DROP FUNCTION procrastinate_unregister_worker_v1;
DROP FUNCTION procrastinate_update_heartbeat_v1;
DROP TABLE procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, procrastinate_workers;
DROP FUNCTION procrastinate_notify_queue_abort_job_v1;
DROP FUNCTION procrastinate_notify_queue_job_inserted_v1;
DROP FUNCTION procrastinate_trigger_abort_requested_events_procedure_v1;
DROP FUNCTION procrastinate_trigger_function_scheduled_events_v1;
DROP FUNCTION procrastinate_trigger_function_status_events_insert_v1;
DROP FUNCTION procrastinate_trigger_function_status_events_update_v1;
DROP FUNCTION procrastinate_unlink_periodic_defers_v1;
DROP TYPE procrastinate_job_status, procrastinate_job_event_type, procrastinate_job_to_defer_v1;
