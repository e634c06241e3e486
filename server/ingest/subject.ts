/**
 * @module server/ingest/subject
 * Subject normalization for the threading subject fallback, and the
 * "generic subject" test that keeps that fallback from fusing unrelated
 * conversations ("Quick question" from two customers is not one thread).
 */

/**
 * Reply/forward markers mail clients put in front of a subject, by language:
 * English, German (AW/WG), Nordic (SV/VS/VB/VL), Dutch (Antw/Doorst),
 * Italian (RIF), French (TR), Spanish/Portuguese (RV/ENC), Polish (ODP/PD),
 * Turkish (YNT), Greek (ΑΠ/ΣΧΕΤ/ΠΡΘ), Hebrew, Chinese. Single letters (the
 * Italian Outlook "R:"/"I:") are left out: too easy to hit real subjects.
 */
const prefixWords = [
  're', 'fwd', 'fw', 'aw', 'wg', 'sv', 'vs', 'vb', 'vl', 'antw', 'doorst', 'rif', 'tr', 'rv', 'enc',
  'odp', 'pd', 'ynt', 'απ', 'σχετ', 'πρθ', 'השב', 'הועבר', '回复', '回覆', '答复', '答覆', '转发', '轉寄', '转寄',
] as const;

/**
 * One prefix: a marker with an optional `[2]`/`(2)`/`^2` counter and a colon
 * (full-width colons become ASCII under NFKC before this runs). Anchored, no
 * nested quantifiers, and whitespace is collapsed to single spaces before it
 * runs, so the two `\s*` never backtrack over a long run.
 */
const replyPrefix = new RegExp(`^(?:${prefixWords.join('|')})\\s*(?:\\[\\d{1,4}\\]|\\(\\d{1,4}\\)|\\^\\d{1,4})?\\s*:`, 'iu');

/** A list tag such as `[SAtalk]` or `[Acme #123]` at the start. */
const listTag = /^\[[^\]]{1,60}\]/u;

/** Pine's trailing forward marker: `Subject (fwd)`. */
const trailingForward = /\s*\((?:fwd|fw)\)$/iu;

/**
 * Subjects that many unrelated conversations share. Compared after
 * normalization and with punctuation removed ("Thanks!!" → "thanks").
 */
const genericSubjects: ReadonlySet<string> = new Set([
  'hello', 'hi', 'hey', 'hello there', 'hi there', 'greetings', 'good morning', 'question', 'questions',
  'quick question', 'a quick question', 'follow up', 'followup', 'following up', 'meeting', 'meeting request',
  'meeting notes', 'notes', 'agenda', 'call', 'quick call', 'call notes', 'chat', 'quick chat', 'sync', 'catch up',
  'catching up', 'touching base', 'checking in', 'just checking in', 'thanks', 'thank you', 'thanks again', 'update',
  'updates', 'no subject', 'none', 'untitled', 'test', 'testing', 'invoice', 'receipt', 'payment', 'order', 'your order',
  'quote', 'proposal', 'contract', 'pricing', 'demo', 're', 'fwd', 'fw', 'introduction', 'intro', 'reminder',
  'urgent', 'important', 'info', 'information', 'request', 'inquiry', 'enquiry', 'help', 'fyi', 'feedback',
  'next steps', 'document', 'documents', 'attachment', 'attachments', 'scan', 'photo', 'photos', 'message',
  'new message', 'note', 'hello again', 'hi again',
]);

/** Scripts where a two- or three-character subject is a real topic (报价单, 見積書). */
const cjk = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/**
 * Strips every leading run of reply/forward prefixes and list tags (in any
 * order, e.g. `Re: [list] AW: Fwd[2]: x`), a trailing `(fwd)`, collapses
 * whitespace and lowercases. NFKC first, so full-width `Ｒｅ：` counts too.
 */
export function normalizeSubject(subject: string): string {
  let rest = subject.normalize('NFKC').replace(/\s+/gu, ' ').trim();
  for (;;) {
    const match = replyPrefix.exec(rest) ?? listTag.exec(rest);
    if (!match) {
      break;
    }
    rest = rest.slice(match[0].length).trimStart();
  }
  return rest.replace(trailingForward, '').trim().toLowerCase();
}

/**
 * Whether a normalized subject is too common to thread on: empty, shorter
 * than 4 characters (2 for CJK text), only punctuation, or on the stop list.
 */
export function isGenericSubject(normalized: string): boolean {
  const words = normalized
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
  const minLength = cjk.test(words) ? 2 : 4;
  if ([...words].length < minLength) {
    return true;
  }
  return genericSubjects.has(words);
}
