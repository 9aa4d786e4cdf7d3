/*! paperrec related-work widget. No dependencies. Titles with math come
 * rendered (MathML) from the server.
 * <div data-paperrec-related="PAPER_ID" data-k="5"></div>
 * <script src="https://HOST/widget.js" async></script>
 * Attributes: data-k (1-20), data-href ("/papers/{id}"), data-title,
 * data-category, data-from, data-to, data-src (a static export: "/related/papers/{file}").
 * Docs: docs/web.md. */
(function () {
  'use strict';
  if (window.paperrecWidget) { window.paperrecWidget.scan(document); return; }
  var me = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var base = new URL('.', (me && me.src) || location.href).href; // the API root: the script's folder
  var SEL = '[data-paperrec-related]';
  var ATTRS = ['data-paperrec-related', 'data-k', 'data-href', 'data-title', 'data-category', 'data-from', 'data-to', 'data-src'];
  var state = new WeakMap(); // element -> key of what it shows or is loading
  // The host page's rules cannot select inside the shadow root, and .r
  // resets what the host element would pass down by inheritance. Only the
  // --paperrec-* custom properties come through: they are the theming API.
  var CSS = ':host{display:block}' +
    '.r{all:initial;display:block;font:var(--paperrec-font,15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);color:var(--paperrec-color,#1f2328)}' +
    '*{box-sizing:border-box}' +
    '.t{margin:0 0 .4em;font-weight:700;font-size:1.05em}' +
    'ol{list-style:none;margin:0;padding:0}' +
    'li{padding:.5em 0;border-top:1px solid var(--paperrec-rule,#d0d7de)}' +
    'li:first-child{border-top:0}' +
    'a{color:var(--paperrec-link,#0a58ca);font-weight:600;text-underline-offset:.15em}' +
    'a:focus-visible{outline:2px solid currentColor;outline-offset:2px;border-radius:2px}' +
    '.m,.w,.q{font-size:.87em;color:var(--paperrec-muted,#57606a)}' +
    '.w{font-style:italic}' +
    '.q{margin:0}' +
    '.s{height:4.8em;margin:.5em 0;border-radius:4px;background:var(--paperrec-skeleton,#eaeef2)}';

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text; // never innerHTML: all text is data
    return e;
  }
  // rich sets a title from title_html (text and MathML) without trusting
  // it: parsed in an inert document, copied node by node, keeping text,
  // MathML elements, a few inline tags and layout attributes only; any
  // other element (a script, a link) is dropped, its text kept.
  var MATHML = 'http://www.w3.org/1998/Math/MathML';
  var TAGS = /^(span|i|em|b|code|sub|sup)$/;
  var KEEP = /^(display|encoding|width|height|depth|[lr]space|voffset|notation|fence|stretchy|mathvariant|(column|row)(spacing|align|lines)|scriptlevel|displaystyle|math(color|background|size)|linethickness|accent(under)?|separator|(min|max)size|linebreak|largeop)$/;
  function copy(from, to) {
    from.childNodes.forEach(function (n) {
      if (n.nodeType === 3) return to.appendChild(document.createTextNode(n.data));
      if (n.nodeType !== 1) return;
      var m = n.namespaceURI === MATHML, name = n.localName;
      if (!m && !TAGS.test(name)) return copy(n, to);
      var e = m ? document.createElementNS(MATHML, name) : document.createElement(name);
      for (var i = 0; i < n.attributes.length; i++) {
        if (KEEP.test(n.attributes[i].name)) e.setAttribute(n.attributes[i].name, n.attributes[i].value);
      }
      to.appendChild(copy(n, e));
    });
    return to;
  }
  function rich(e, html, text) {
    if (typeof html !== 'string') e.textContent = text;
    else copy(new DOMParser().parseFromString(html, 'text/html').body, e);
    return e;
  }
  function attr(host, name, def) {
    var v = host.getAttribute(name);
    return v == null ? def : v;
  }
  // fileName escapes an ID as `paperrec export --format static` names files.
  function fileName(id) {
    return encodeURIComponent(id).replace(/[!'()*~]/g, function (c) {
      return '%' + c.charCodeAt(0).toString(16).toUpperCase();
    }).replace(/^\./, '%2E').replace(/%/g, '~') + '.json';
  }
  function fill(pattern, id) {
    return pattern.split('{id}').join(encodeURIComponent(id)).split('{file}').join(fileName(id));
  }
  function safeURL(u) {
    try { u = new URL(u, location.href); } catch (e) { return null; }
    return /^https?:$/.test(u.protocol) ? u.href : null;
  }
  function why(w) {
    if (!w) return '';
    if (w.keyphrases && w.keyphrases.length) return 'Shared keyphrases: ' + w.keyphrases.slice(0, 3).join(', ');
    if (w.authors && w.authors.length) return 'Shared authors: ' + w.authors.slice(0, 2).join(', ');
    // Up to three terms, phrases first, none repeating a word already named.
    var ts = (w.terms || []).filter(function (t) { return t.kind !== 'word'; })
      .concat((w.terms || []).filter(function (t) { return t.kind === 'word'; }));
    var used = {}, out = [];
    ts.forEach(function (t) {
      var words = t.term.split(' ');
      if (out.length < 3 && !words.some(function (x) { return used[x]; })) {
        words.forEach(function (x) { used[x] = 1; });
        out.push(t.term);
      }
    });
    return out.length ? 'Shared terms: ' + out.join(', ') : '';
  }

  function render(host) {
    var id = (host.getAttribute('data-paperrec-related') || '').trim();
    var k = Math.min(20, Math.max(1, parseInt(attr(host, 'data-k', '5'), 10) || 5));
    var key = ATTRS.map(function (a) { return host.getAttribute(a); }).join('\n');
    if (state.get(host) === key) return;
    state.set(host, key);
    var root = host.shadowRoot;
    if (!root) {
      try { root = host.attachShadow({ mode: 'open' }); } catch (e) { root = host; } // e.g. on a <ul>: unstyled
    }
    if (root !== host) {
      root.textContent = '';
      root.appendChild(el('style', null, CSS));
    } else {
      root.textContent = '';
    }
    var title = attr(host, 'data-title', 'Related papers');
    var box = el('section', 'r');
    box.setAttribute('aria-label', title || 'Related papers');
    box.setAttribute('aria-busy', 'true');
    if (title) box.appendChild(el('p', 't', title));
    var list = el('ol');
    for (var i = 0; i < k; i++) list.appendChild(el('li', 's')).setAttribute('aria-hidden', 'true');
    box.appendChild(list);
    root.appendChild(box);
    host.setAttribute('data-paperrec-state', 'loading');
    host.setAttribute('data-rendered-count', '0');

    function done(stateName, message) {
      if (state.get(host) !== key) return; // the attributes changed meanwhile
      box.removeAttribute('aria-busy');
      host.setAttribute('data-paperrec-state', stateName);
      if (message) {
        list.replaceWith(el('p', 'q', message));
        host.setAttribute('data-rendered-count', '0');
      }
    }
    if (!id) return done('empty', 'No paper given.');

    var src = attr(host, 'data-src', '');
    var url;
    if (src) {
      url = safeURL(fill(src, id));
    } else {
      var q = new URLSearchParams({ k: String(k) });
      ['category', 'from', 'to'].forEach(function (n) {
        var v = host.getAttribute('data-' + n);
        if (v) q.set(n, v);
      });
      url = base + 'v1/papers/' + encodeURIComponent(id) + '/related?' + q;
    }
    if (!url) return done('error', 'Related papers are unavailable.');
    var ctl = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (ctl) ctl.abort(); }, 15000);
    fetch(url, { credentials: 'omit', signal: ctl && ctl.signal, headers: { Accept: 'application/json' } })
      .then(function (r) {
        if (r.status === 404) return { missing: true };
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then(function (data) {
        clearTimeout(timer);
        if (data.missing) return done('unknown', 'No related papers are known for this paper.');
        var items = (data.related || []).slice(0, k);
        if (!items.length) return done('empty', 'No related papers yet.');
        var pattern = attr(host, 'data-href', '');
        var ol = el('ol');
        items.forEach(function (it) {
          var li = el('li');
          li.setAttribute('data-paper-id', it.id);
          var href = safeURL(pattern ? fill(pattern, it.id) : base + '#paper=' + encodeURIComponent(it.id));
          var a = rich(el(href ? 'a' : 'span'), it.title_html, it.title);
          if (href) a.href = href;
          li.appendChild(a);
          var authors = (it.authors || []).slice(0, 3).join(', ') + ((it.authors || []).length > 3 ? ' et al.' : '');
          var meta = [authors, (it.date || '').slice(0, 4)].filter(Boolean).join(' · ');
          if (meta) li.appendChild(el('div', 'm', meta));
          var w = why(it.why);
          if (w) li.appendChild(el('div', 'w', w));
          ol.appendChild(li);
        });
        if (state.get(host) !== key) return;
        list.replaceWith(ol);
        host.setAttribute('data-rendered-count', String(items.length));
        done('ready');
      })
      .catch(function () {
        clearTimeout(timer);
        done('error', 'Related papers could not be loaded right now.');
      });
  }

  function scan(node) {
    if (node.nodeType !== 1 && node.nodeType !== 9) return;
    if (node.matches && node.matches(SEL)) render(node);
    node.querySelectorAll(SEL).forEach(render);
  }
  window.paperrecWidget = { scan: scan, fileName: fileName };
  scan(document);
  new MutationObserver(function (records) {
    records.forEach(function (r) {
      if (r.type === 'attributes') {
        if (r.target.matches(SEL)) render(r.target);
      } else {
        r.addedNodes.forEach(scan);
      }
    });
  }).observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ATTRS });
})();
