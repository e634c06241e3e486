/**
 * @module sync/countries
 * ISO 3166-1 alpha-2 countries: the codes records store, their English names
 * (from the platform's Intl data, so no table of names to maintain), and a
 * forgiving parser for what people type or spreadsheets contain ("de",
 * "Germany", "U.K.", "Côte d'Ivoire").
 */

// The 249 officially assigned codes. Kept as one string: a table of names
// would drift from the platform's Intl data the UI shows anyway.
const CODES = `AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV
BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK
FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT
JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO
MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW`;

export const COUNTRY_CODES: readonly string[] = CODES.split(/\s+/);

const CODE_SET = new Set(COUNTRY_CODES);

/** Names people use that differ from the Intl English name. */
const ALIASES: Readonly<Record<string, string>> = {
  uk: 'GB',
  'great britain': 'GB',
  britain: 'GB',
  england: 'GB',
  scotland: 'GB',
  wales: 'GB',
  'northern ireland': 'GB',
  usa: 'US',
  'united states of america': 'US',
  america: 'US',
  uae: 'AE',
  turkey: 'TR',
  'czech republic': 'CZ',
  holland: 'NL',
  'russian federation': 'RU',
  korea: 'KR',
  'republic of korea': 'KR',
  'north korea': 'KP',
  'ivory coast': 'CI',
  swaziland: 'SZ',
  macedonia: 'MK',
  burma: 'MM',
  'cape verde': 'CV',
  'east timor': 'TL',
  vatican: 'VA',
  'vatican city': 'VA',
  'viet nam': 'VN',
  'hong kong': 'HK',
  macau: 'MO',
  macao: 'MO',
  palestine: 'PS',
  bosnia: 'BA',
  'congo kinshasa': 'CD',
  'democratic republic of the congo': 'CD',
  'congo brazzaville': 'CG',
  'republic of the congo': 'CG',
};

function displayNames(): Intl.DisplayNames | null {
  try {
    return new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });
  } catch {
    return null;
  }
}

const NAMES = displayNames();

/** Lower case, no accents, no dots, one kind of apostrophe, "&" as "and", no leading "the". */
function key(input: string): string {
  return input
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[’‘`]/g, "'")
    .replace(/\./g, '')
    .replace(/&/g, ' and ')
    .replace(/[\s,()-]+/g, ' ')
    .trim()
    .replace(/^the /, '')
    .replace(/\bsaint\b/g, 'st');
}

let byName: Map<string, string> | null = null;

function nameIndex(): Map<string, string> {
  if (byName) {
    return byName;
  }
  byName = new Map(Object.entries(ALIASES));
  for (const code of COUNTRY_CODES) {
    byName.set(key(countryName(code)), code);
  }
  return byName;
}

/** The English name of a country code ("DE" → "Germany"); the code itself when unknown. */
export function countryName(code: string): string {
  return NAMES?.of(code) ?? code;
}

/**
 * Reads a country as typed: an alpha-2 code or an English name, any case.
 * @returns the upper-case alpha-2 code, or null when it is not a country.
 */
export function normalizeCountry(input: string): string | null {
  const trimmed = input.trim();
  if (/^[a-z]{2}$/i.test(trimmed)) {
    const code = trimmed.toUpperCase();
    return CODE_SET.has(code) ? code : (ALIASES[trimmed.toLowerCase()] ?? null);
  }
  return nameIndex().get(key(trimmed)) ?? null;
}

/** Every country as `{code, name}`, by name, for pickers. */
export function countryOptions(): { code: string; name: string }[] {
  return COUNTRY_CODES.map((code) => ({ code, name: countryName(code) })).sort((a, b) => a.name.localeCompare(b.name));
}
