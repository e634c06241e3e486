-- The writer that holds a person's document: a fencing token, set when a
-- process takes the document's lease. Appends, compactions and rebuilds
-- name their token, so a process that lost its lease (a long pause, a
-- partition) can no longer write, even before it notices.
alter table sync_docs add column writer text;
