-- Client updates that are stored in a person's document but not yet decided
-- by the edit policy, with what they changed (read while the update was
-- applied: afterwards the document can no longer tell). The row is written in
-- the same statement as the update and deleted once the policy's decision
-- committed, so whoever holds the document's lease next (after a crash, or
-- after a decision that failed) reviews what is left: no update goes
-- undecided. Compaction and rebuilds leave these rows alone.
create table sync_doc_reviews (
  user_id uuid not null references sync_docs (user_id) on delete cascade,
  seq bigint not null,
  author_id uuid not null,
  session_id text not null,
  changes jsonb not null,
  created_at timestamptz not null default now(),
  primary key (user_id, seq)
);
