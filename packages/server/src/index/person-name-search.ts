// The search form of a person name, for optional case- and accent-insensitive matching
// (the "fuzzy semantic matching of person names" an SCU may negotiate, PS3.4 C.2.2.2.1).

/** Upper-case, accents removed: "Müller^Zoë" → "MULLER^ZOE". Only Latin-script combining
 * accents (U+0300–U+036F) are removed: Japanese voicing marks change meaning and stay. */
export function personNameSearchForm(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'SS')
    .toUpperCase()
    .normalize('NFC');
}
