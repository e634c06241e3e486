-- A mailbox's health line, split and timed. The hint is stored apart from
-- the message (the app shows it separately); health_at stays "since when
-- this status and code hold", and health_checked_at moves on every check
-- (each pass, each watchdog NOOP, each failure), so a healthy account does
-- not look stale.
alter table mail_accounts add column health_hint text;
alter table mail_accounts add column health_checked_at timestamptz;
update mail_accounts set health_checked_at = health_at;
