/** A page the headless browser ended on. */
export interface PageVisit {
  url: string;
  status: number;
  body: string;
}

export interface HeadlessBrowserOptions {
  /** The account to log in as on the identity provider's login page. Default `alice`. */
  account?: string;
  /** `approve` (default) logs in and confirms; `deny` cancels the login page or aborts the device confirmation. */
  decision?: 'approve' | 'deny';
  /** The user code to type when a device page does not have it filled in. */
  userCode?: string;
  /**
   * Sees every GET before it is sent and may answer it instead (e.g. deliver the login callback its own way); returning
   * `undefined` sends the request as usual.
   */
  intercept?: (url: URL) => Promise<Response | undefined>;
}

/**
 * Drives oidc-provider's development login, consent and device pages over plain HTTP: `fetch` with
 * `redirect: 'manual'`, a cookie jar, and a form filler for the few forms those pages have. Pass `open` as
 * `openBrowser`.
 */
export interface HeadlessBrowser {
  /** Navigates to `url` and through every page until one needs nothing more; resolves when done. */
  open: (url: string) => Promise<void>;
  /** Every URL `open` was called with. */
  readonly opened: string[];
  /** The final page of every navigation, in the order they finished. */
  readonly finished: PageVisit[];
  /** Every HTTP request made (method and URL). */
  readonly requests: string[];
  /** Navigates and returns the final page. */
  navigate(url: string): Promise<PageVisit>;
  /** Waits for every navigation started by `open`. */
  idle(): Promise<void>;
}

const ENTITIES: Record<string, string> = { amp: '&', quot: '"', apos: "'", lt: '<', gt: '>' };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, entity: string) => {
    if (entity.startsWith('#x') || entity.startsWith('#X')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)));
    return ENTITIES[entity.toLowerCase()] ?? whole;
  });
}

function attributes(tag: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const match of tag.matchAll(/([\w.:-]+)\s*=\s*"([^"]*)"/g)) result.set(match[1]!.toLowerCase(), decodeEntities(match[2]!));
  return result;
}

type RequestInitLite = { method: 'GET' } | { method: 'POST'; body: URLSearchParams };

interface Step {
  url: URL;
  init: RequestInitLite;
}

interface Form {
  id: string | undefined;
  action: string;
  fields: Map<string, string>;
}

function forms(html: string): Form[] {
  const found: Form[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = attributes(match[1]!);
    const fields = new Map<string, string>();
    for (const input of match[2]!.matchAll(/<input\b([^>]*)>/gi)) {
      const inputAttrs = attributes(input[1]!);
      const name = inputAttrs.get('name');
      if (name) fields.set(name, inputAttrs.get('value') ?? '');
    }
    found.push({ id: attrs.get('id'), action: attrs.get('action') ?? '', fields });
  }
  return found;
}

/** A browser stand-in for oidc-provider's dev interactions. */
export function createHeadlessBrowser(options: HeadlessBrowserOptions = {}): HeadlessBrowser {
  const account = options.account ?? 'alice';
  const decision = options.decision ?? 'approve';
  // Cookies are per host, not per port, exactly like a browser.
  const jar = new Map<string, Map<string, string>>();
  const opened: string[] = [];
  const finished: PageVisit[] = [];
  const requests: string[] = [];
  const pending: Array<Promise<unknown>> = [];

  async function request(url: URL, init: RequestInitLite): Promise<Response> {
    const cookies = jar.get(url.hostname) ?? new Map<string, string>();
    jar.set(url.hostname, cookies);
    const headers: Record<string, string> = {};
    if (cookies.size) headers.cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (init.method === 'POST') headers['content-type'] = 'application/x-www-form-urlencoded';
    requests.push(`${init.method} ${url.href}`);
    const intercepted = init.method === 'GET' ? await options.intercept?.(url) : undefined;
    if (intercepted) return intercepted;
    const response = await fetch(url, {
      method: init.method,
      headers,
      redirect: 'manual',
      ...(init.method === 'POST' ? { body: init.body.toString() } : {}),
    });
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...rest] = header.split(';');
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      const expired = rest.some((part) => /^\s*max-age\s*=\s*0\s*$/i.test(part) || (/^\s*expires\s*=/i.test(part) && Date.parse(part.split('=')[1]!) < Date.now()));
      if (expired) cookies.delete(name);
      else cookies.set(name, value);
    }
    return response;
  }

  /** What to do on a page: the next request, or nothing when the page is final. */
  function nextStep(url: URL, html: string): Step | undefined {
    // The device pages show errors (aborted, expired, already used) in red above a fresh form: that page is final.
    if (html.includes('<p class="red">')) return undefined;
    for (const form of forms(html)) {
      const action = new URL(form.action || url.href, url);
      const fields = new URLSearchParams([...form.fields]);
      // The user code page, or its auto-submitting variant behind `verification_uri_complete`.
      if (form.id === 'op.deviceInputForm' || (fields.has('xsrf') && fields.has('user_code') && !fields.has('confirm'))) {
        if (!fields.get('user_code')) fields.set('user_code', options.userCode ?? '');
        return { url: action, init: { method: 'POST', body: fields } };
      }
      if (form.id === 'op.deviceConfirmForm') {
        if (decision === 'deny') {
          fields.delete('confirm');
          fields.set('abort', 'yes');
        }
        return { url: action, init: { method: 'POST', body: fields } };
      }
      if (fields.get('prompt') === 'login') {
        if (decision === 'deny') {
          const abort = /href="([^"]*\/abort)"/.exec(html);
          if (abort) return { url: new URL(decodeEntities(abort[1]!), url), init: { method: 'GET' } };
        }
        fields.set('login', account);
        fields.set('password', 'any-password');
        return { url: action, init: { method: 'POST', body: fields } };
      }
      if (fields.get('prompt') === 'consent') return { url: action, init: { method: 'POST', body: fields } };
    }
    return undefined;
  }

  async function navigate(start: string): Promise<PageVisit> {
    let step: Step | undefined = {
      url: new URL(start),
      init: { method: 'GET' },
    };
    for (let hops = 0; hops < 30 && step; hops += 1) {
      const response = await request(step.url, step.init);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        step = { url: new URL(location, step.url), init: { method: 'GET' } };
        continue;
      }
      const body = await response.text();
      const next: Step | undefined = response.ok ? nextStep(step.url, body) : undefined;
      if (!next) {
        const visit = { url: step.url.href, status: response.status, body };
        finished.push(visit);
        return visit;
      }
      step = next;
    }
    throw new Error(`headless browser: too many steps from ${start}`);
  }

  return {
    open: async (url) => {
      opened.push(url);
      const navigation = navigate(url);
      pending.push(navigation.catch(() => undefined));
      await navigation;
    },
    opened,
    finished,
    requests,
    navigate,
    async idle() {
      await Promise.all(pending);
    },
  };
}
