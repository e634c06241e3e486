-- A review writes hundreds of rows at once into thread_fields,
-- thread_user_fields and sync_writes (a 1,000-edit offline batch: about 2,900
-- rows in three statements). Their foreign keys checked, and share-locked,
-- the referenced thread or person once per row: measured, about 60 ms of the
-- batch's 150 ms in Postgres, against 15 ms for the writes themselves.
--
-- Each key becomes one check per statement over the rows it wrote: it locks
-- every referenced row once, FOR KEY SHARE as the key did (a concurrent
-- delete of the thread or person waits for the writer's commit, and its
-- cascade then sees the new rows), and fails with the key's SQLSTATE 23503.
-- What the keys did on delete (cascade, set null) moves to triggers on the
-- referenced tables. No statement changes a key column of these rows in
-- place, but the checks cover updates too, as the keys did.

create function require_referenced() returns trigger language plpgsql as $$
declare
  col text := tg_argv[0];
  parent text := tg_argv[1];
  missing text;
begin
  execute format(
    'with wanted as materialized (select distinct n.%1$I as id from written n where n.%1$I is not null),
          held as materialized (select p.id from %2$I p join wanted w on w.id = p.id for key share of p)
     select w.id::text from wanted w where not exists (select 1 from held h where h.id = w.id) limit 1',
    col, parent) into missing;
  if missing is not null then
    raise exception 'insert or update on table "%" violates its reference to "%": % = % is not present', tg_table_name, parent, col, missing
      using errcode = 'foreign_key_violation', table = tg_table_name, column = col;
  end if;
  return null;
end
$$;

-- Each (table, column, referenced table): its key goes, a check on insert and on update comes.
do $$
declare
  ref record;
  event text;
begin
  for ref in select * from (values
    ('thread_fields', 'thread_id', 'threads'),
    ('thread_fields', 'actor_id', 'users'),
    ('thread_user_fields', 'thread_id', 'threads'),
    ('thread_user_fields', 'user_id', 'users'),
    ('sync_writes', 'user_id', 'users')
  ) as r (tab, col, parent) loop
    execute format('alter table %I drop constraint %I', ref.tab, ref.tab || '_' || ref.col || '_fkey');
    foreach event in array array['insert', 'update'] loop
      execute format(
        'create trigger %I after %s on %I referencing new table as written for each statement execute function require_referenced(%L, %L)',
        ref.tab || '_' || ref.col || '_on_' || event, event, ref.tab, ref.col, ref.parent);
    end loop;
  end loop;
end
$$;

-- What the keys did on delete. Arguments: (table, column, action) triples, the action `delete` or `clear` (set null).
create function release_references() returns trigger language plpgsql as $$
declare
  i int := 0;
begin
  while i < tg_nargs loop
    if tg_argv[i + 2] = 'clear' then
      execute format('update %1$I c set %2$I = null from gone g where c.%2$I = g.id', tg_argv[i], tg_argv[i + 1]);
    else
      execute format('delete from %I c using gone g where c.%I = g.id', tg_argv[i], tg_argv[i + 1]);
    end if;
    i := i + 3;
  end loop;
  return null;
end
$$;

create trigger threads_release_references after delete on threads
  referencing old table as gone for each statement
  execute function release_references('thread_fields', 'thread_id', 'delete', 'thread_user_fields', 'thread_id', 'delete');

create trigger users_release_references after delete on users
  referencing old table as gone for each statement
  execute function release_references('thread_fields', 'actor_id', 'clear', 'thread_user_fields', 'user_id', 'delete', 'sync_writes', 'user_id', 'delete');
