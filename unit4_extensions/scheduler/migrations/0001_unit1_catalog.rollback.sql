-- Undoes 0001_unit1_catalog: the catalog and enrollments, with every row in them.
-- The btree_gist extension stays: it may have been installed before us (on a managed
-- database, by an administrator), and leaving it harms nothing.
DROP TABLE enrollments;
DROP TABLE sections;
DROP TABLE students;
DROP TABLE rooms;
DROP TABLE instructors;
DROP TABLE courses;
DROP FUNCTION days_are_distinct(weekday[]);
DROP FUNCTION meeting_minutes(weekday[], time, time);
DROP TYPE weekday;
