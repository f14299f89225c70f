-- Undoes 0005_advisor_plans: the advisor's plans are deleted with their table (enrollments
-- made by accepting a plan stay: they are ordinary enrollments).
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- Nothing but the advisor reads this table, and it goes with the code that does.
-- squawk-ignore ban-drop-table
DROP TABLE advisor_plans;
