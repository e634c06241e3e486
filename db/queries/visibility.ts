/**
 * @module db/queries/visibility
 * The SQL twin of sync/visibility.ts: the same rules as a boolean SQL
 * expression, so every API that returns mail filters in the database, and a
 * property test keeps the two equal (tests/integration/visibility-sql.test.ts).
 *
 * `viewer` and `org` are SQL expressions: parameters for the APIs, where the
 * viewer's subordinates and groups are uncorrelated subqueries Postgres
 * evaluates once, or a lateral column for the property test.
 */

/** Everyone below the viewer in the reporting line. */
function subordinatesOf(viewer: string): string {
  return `(with recursive down(id) as (
      select u.id from users u where u.manager_id = ${viewer}
      union select u.id from users u join down on u.manager_id = down.id
    ) select id from down)`;
}

function groupsOf(viewer: string): string {
  return `(select gm.group_id from group_members gm where gm.user_id = ${viewer})`;
}

/** Whether the viewer can access record `r` (a `records` row alias). */
export function recordAccessSql(viewer: string, r: string): string {
  return `(
    (select o.record_access from organizations o where o.id = ${r}.org_id) = 'public'
    or ${r}.owner_id = ${viewer}
    or ${r}.owner_id in ${subordinatesOf(viewer)}
    or exists (select 1 from record_shares rs where rs.record_id = ${r}.id
      and (rs.user_id = ${viewer} or rs.group_id in ${groupsOf(viewer)}))
  )`;
}

/** Whether `address` is one of mailbox `a`'s own addresses (they never count as other parties). */
function ownAddressSql(a: string, address: string): string {
  return `(${address} = ${a}.email or exists (select 1 from mail_account_addresses own
    where own.account_id = ${a}.id and own.address = ${address}))`;
}

/** Whether the message has an other party in one of `s`'s excluded domains (or their subdomains). */
function excludedSql(m: string, a: string, s: string): string {
  return `(cardinality(${s}.excluded_domains) > 0 and exists (
    select 1 from message_participants xp, unnest(${s}.excluded_domains) x(domain)
    where xp.message_id = ${m}.id and not ${ownAddressSql(a, 'xp.address')}
      and (split_part(xp.address, '@', 2) = x.domain or split_part(xp.address, '@', 2) like '%.' || x.domain)))`;
}

/**
 * The ids of the messages of organization `org` the viewer may see, as a
 * parenthesized subquery: use it as `m.id in ${visibleMessageIdsSql(…)}`.
 * Mirrors `Visibility.decide`; a person without an `email_sharing` row is
 * Custom. Set-shaped on purpose: the viewer's own mail, plus every
 * (message, other party, record) link that passes the rules, so Postgres
 * answers with hash joins over the organization instead of a per-message
 * subplan (about 4× faster on 60,000 messages).
 * @param among optional SQL condition on the candidate message `m` (say
 *   `m.thread_id = any($5)`) that narrows the set before the rules run, so a
 *   question about a few threads does not evaluate the whole organization.
 *   It only removes candidates; the rules are the same.
 */
export function visibleMessageIdsSql(viewer: string, org: string, among = 'true'): string {
  const mode = `coalesce(s.mode, 'custom')`;
  return `(
    select m.id from messages m join mail_accounts a on a.id = m.account_id
    where m.org_id = ${org} and (${among}) and a.owner_id = ${viewer}
      and exists (select 1 from users vu where vu.id = ${viewer} and vu.org_id = ${org})
    union
    select m.id from messages m
      join mail_accounts a on a.id = m.account_id
      left join email_sharing s on s.user_id = a.owner_id
      join message_participants p on p.message_id = m.id
      join record_emails re on re.org_id = m.org_id and re.address = p.address
      join records r on r.id = re.record_id
    where m.org_id = ${org} and (${among})
      and exists (select 1 from users vu where vu.id = ${viewer} and vu.org_id = ${org})
      and not ${ownAddressSql('a', 'p.address')}
      and ${recordAccessSql(viewer, 'r')}
      and (
        m.sent_from_shoal
        or (${mode} <> 'private'
          and not coalesce(${excludedSql('m', 'a', 's')}, false)
          and (
            a.owner_id in ${subordinatesOf(viewer)}
            or ((${mode} = 'public' or exists (select 1 from email_share_flags f
                where f.owner_id = a.owner_id and f.record_id = r.id and f.shared))
              and (not coalesce(s.restricted, false) or exists (select 1 from email_sharing_audience au
                where au.owner_id = a.owner_id and (au.user_id = ${viewer} or au.group_id in ${groupsOf(viewer)}))))
          ))
      )
  )`;
}
