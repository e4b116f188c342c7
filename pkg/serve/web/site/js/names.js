// The store name rule, read from the server's OpenAPI document (the create body's schema),
// and checked as the name is typed. The server checks again; this only explains early.

// nameRule finds the schema of the create body's name in an OpenAPI document and returns
// {pattern, maxLength, minLength, reserved, reservedPrefixes, types}; parts the document does
// not state are left out, and the server alone checks them.
export function nameRule(doc) {
  const resolve = (s) => {
    for (let i = 0; s && s.$ref && i < 10; i++) {
      s = s.$ref.replace(/^#\//, "").split("/").reduce((o, k) => o?.[k.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
    }
    return s || {};
  };
  const body = resolve(doc?.paths?.["/api/stores"]?.post?.requestBody);
  const schema = resolve(body.content?.["application/json"]?.schema);
  const name = resolve(schema.properties?.name);
  const type = resolve(schema.properties?.type);
  // Reserved words are either listed for clients or stated as "not": an enum and a prefix
  // pattern, alone or under anyOf.
  const not = resolve(name.not);
  const nots = (not.anyOf || [not]).map(resolve);
  const reserved = name["x-reserved-names"] || nots.flatMap((n) => n.enum || []);
  const prefixes = nots.filter((n) => n.pattern).map((n) => new RegExp(n.pattern, "u"));
  return {
    pattern: name.pattern ? new RegExp(name.pattern, "u") : null,
    maxLength: name.maxLength,
    minLength: name.minLength ?? 1,
    reserved: new Set(reserved),
    reservedPrefixes: name["x-reserved-prefixes"] || [],
    notPatterns: prefixes,
    types: type.enum || (type.const ? [type.const] : null),
  };
}

const describe = (ch) => (ch === " " ? "a space" : `“${ch}”`);

// checkName returns "" when name passes the rule, else a sentence saying what is wrong and,
// for a character, which one and where.
export function checkName(name, rule) {
  const chars = [...name];
  if (chars.length < rule.minLength) return "Enter a name.";
  if (rule.maxLength && chars.length > rule.maxLength) {
    return `${chars.length} characters is too long: at most ${rule.maxLength}.`;
  }
  if (!rule.pattern || rule.pattern.test(name)) return reservedWord(name, rule);
  return whichCharacter(chars, rule.pattern) || "This name does not match the rule below.";
}

function reservedWord(name, rule) {
  if (rule.reserved?.has(name)) return `“${name}” is reserved; choose another name.`;
  const prefix = (rule.reservedPrefixes || []).find((p) => name.startsWith(p));
  if (prefix) return `Names starting with “${prefix}” are reserved; choose another name.`;
  if ((rule.notPatterns || []).some((re) => re.test(name))) return "This name is reserved; choose another name.";
  return "";
}

// whichCharacter names the first character that keeps the name from matching. A character is
// wrong when no name that starts with everything up to and including it can match: the
// pattern is tried on that prefix followed by a few plain endings.
function whichCharacter(chars, pattern) {
  const endings = ["", "a", "0", "a0", "0a"];
  const fits = (prefix) => endings.some((e) => pattern.test(prefix + e));
  for (let i = 0; i < chars.length; i++) {
    const prefix = chars.slice(0, i + 1).join("");
    if (fits(prefix)) continue;
    const ch = chars[i];
    const at = `position ${i + 1}`;
    if (ch !== ch.toLowerCase() && fits(chars.slice(0, i).join("") + ch.toLowerCase())) {
      return `${describe(ch)} at ${at} is upper case; use “${ch.toLowerCase()}”.`;
    }
    if (i === 0) return `A name must start with a letter, not ${describe(ch)}.`;
    return `${describe(ch)} at ${at} is not allowed: use lowercase letters, digits and hyphens.`;
  }
  const last = chars[chars.length - 1];
  return `A name cannot end with ${describe(last)}.`;
}
