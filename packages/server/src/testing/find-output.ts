// Reads dcmtk findscu -v output: one attribute map per pending response.
export type FoundIdentifier = Map<string, string>;

export function parseFindResponses(output: string): FoundIdentifier[] {
  const responses: FoundIdentifier[] = [];
  let current: FoundIdentifier | undefined;
  for (const line of output.split('\n')) {
    if (/Find Response: \d+ \(Pending/.test(line)) {
      current = new Map();
      responses.push(current);
    } else if (/Final Find Response|Request Identifiers/.test(line)) {
      current = undefined;
    } else if (current) {
      const m = /\(([0-9a-f]{4}),([0-9a-f]{4})\) [A-Z]{2} (?:\[(.*?)\]|\(no value available\)|=(\S+))/.exec(line);
      if (m) current.set(`${m[1]}${m[2]}`.toUpperCase(), (m[3] ?? m[4] ?? '').replace(/[\s\0]+$/, '').trim());
    }
  }
  return responses;
}
