/**
 * What a link in the model's answer may be. Model text is untrusted (a prompt, a quoted page or
 * an imported archive can steer it), so a link may only open a web page, and it may not show
 * one address while leading to another. Pure.
 */

/** The target a link may have: an absolute http(s) URL with a host; anything else is no link. */
export function safeHref(url: string): string | undefined {
  if (!/^https?:\/\//i.test(url)) return undefined; // tg://login, tg://proxy, tg://user (mentions), mailto:, javascript:...
  try {
    const parsed = new URL(url);
    return parsed.hostname ? url : undefined;
  } catch {
    return undefined;
  }
}

/** The host a link text names when it looks like an address (`https://a.example/x`, `www.a.example`, `a.example`). */
export function hostNamedBy(text: string): string | undefined {
  const candidate = text.trim();
  if (!/^(https?:\/\/)?([a-z0-9-]+\.)+[a-z]{2,}(:\d+)?([/?#]\S*)?$/i.test(candidate)) return undefined;
  try {
    return normalHost(new URL(/^https?:\/\//i.test(candidate) ? candidate : `http://${candidate}`).hostname);
  } catch {
    return undefined;
  }
}

const normalHost = (host: string) => host.toLowerCase().replace(/^www\./, "");

/** True when the link's text looks like an address on another host than the one it opens. */
export function isDeceptiveLink(text: string, href: string): boolean {
  const named = hostNamedBy(text);
  if (named === undefined) return false;
  return named !== normalHost(new URL(href).hostname);
}
