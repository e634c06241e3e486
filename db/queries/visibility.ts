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

/**
 * How the rules name the viewer and the viewer's relations, as SQL. One
 * viewer (a parameter): uncorrelated subqueries Postgres evaluates once and
 * hashes. Many viewers at once ({@link manyViewers}): the same questions as
 * (viewer, person) pairs against relations of every viewer, so the rules run
 * as one set-shaped plan instead of once per viewer.
 */
export interface ViewerTerms {
  /** The viewer's id. */
  viewer: string;
  /** Whether `person` is below the viewer in the reporting line. */
  reportsTo: (person: string) => string;
  /** Whether the viewer is a member of `group`. */
  memberOf: (group: string) => string;
}

export const oneViewer = (viewer: string): ViewerTerms => ({
  viewer,
  reportsTo: (person) => `${person} in ${subordinatesOf(viewer)}`,
  memberOf: (group) => `${group} in ${groupsOf(viewer)}`,
});

/**
 * The terms for every row of a relation at once: `viewer` is its column, and
 * `reports` a relation (viewer, id) of everyone below each viewer, as
 * {@link reportsCteSql} builds it.
 */
export const manyViewers = (viewer: string, reports: string): ViewerTerms => ({
  viewer,
  reportsTo: (person) => `(${viewer}, ${person}) in (select rp.viewer, rp.id from ${reports} rp)`,
  memberOf: (group) => `(${viewer}, ${group}) in (select gm.user_id, gm.group_id from group_members gm)`,
});

/** A recursive CTE `name(viewer, id)`: everyone below each viewer of `viewers` (a subquery of ids) in the reporting line. */
export function reportsCteSql(name: string, viewers: string): string {
  return `${name}(viewer, id) as (
      select u.manager_id, u.id from users u where u.manager_id in ${viewers}
      union select rp.viewer, u.id from users u join ${name} rp on u.manager_id = rp.id
    )`;
}

const termsOf = (viewer: string | ViewerTerms): ViewerTerms => (typeof viewer === 'string' ? oneViewer(viewer) : viewer);

/** Whether the viewer can access record `r` (a `records` row alias). */
export function recordAccessSql(viewer: string | ViewerTerms, r: string): string {
  const t = termsOf(viewer);
  return `(
    (select o.record_access from organizations o where o.id = ${r}.org_id) = 'public'
    or ${r}.owner_id = ${t.viewer}
    or ${t.reportsTo(`${r}.owner_id`)}
    or exists (select 1 from record_shares rs where rs.record_id = ${r}.id
      and (rs.user_id = ${t.viewer} or ${t.memberOf('rs.group_id')}))
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
  return `(${visibleMessagesSql(oneViewer(viewer), org, among, { select: 'm.id' })})`;
}

/**
 * The rules of {@link visibleMessageIdsSql} as a union of two selects, with
 * the select list and extra `from` items the caller chooses: with
 * {@link manyViewers}, `from` holds the relation of viewers and `among` ties
 * each to its candidate messages, and the rules run once for all of them.
 */
export function visibleMessagesSql(terms: ViewerTerms, org: string, among: string, shape: { select: string; from?: string }): string {
  const { viewer } = terms;
  const from = shape.from ? `${shape.from}, ` : '';
  const mode = `coalesce(s.mode, 'custom')`;
  return `
    select ${shape.select} from ${from}messages m join mail_accounts a on a.id = m.account_id
    where m.org_id = ${org} and (${among}) and a.owner_id = ${viewer}
      and exists (select 1 from users vu where vu.id = ${viewer} and vu.org_id = ${org})
    union
    select ${shape.select} from ${from}messages m
      join mail_accounts a on a.id = m.account_id
      left join email_sharing s on s.user_id = a.owner_id
      join message_participants p on p.message_id = m.id
      join record_emails re on re.org_id = m.org_id and re.address = p.address
      join records r on r.id = re.record_id
    where m.org_id = ${org} and (${among})
      and exists (select 1 from users vu where vu.id = ${viewer} and vu.org_id = ${org})
      and not ${ownAddressSql('a', 'p.address')}
      and ${recordAccessSql(terms, 'r')}
      and (
        m.sent_from_shoal
        or (${mode} <> 'private'
          and not coalesce(${excludedSql('m', 'a', 's')}, false)
          and (
            ${terms.reportsTo('a.owner_id')}
            or ((${mode} = 'public' or exists (select 1 from email_share_flags f
                where f.owner_id = a.owner_id and f.record_id = r.id and f.shared))
              and (not coalesce(s.restricted, false) or exists (select 1 from email_sharing_audience au
                where au.owner_id = a.owner_id and (au.user_id = ${viewer} or ${terms.memberOf('au.group_id')}))))
          ))
      )`;
}
