/* paperrec landscape explorer: a map of every paper (positions from
 * GET v1/map, computed server-side from the embeddings), coloured by theme
 * or area, with search, filters, a theme list and a detail panel for a
 * paper with its abstract, keyphrases, related papers and theme.
 * Plain JavaScript, no dependencies, no build step. All text goes into the
 * page through textContent, never as markup; titles and abstracts with math
 * come rendered from the server (title_html, abstract_html: text and
 * MathML), and rich() copies only text, MathML and a few inline tags. */
(function () {
  'use strict';

  var API = new URL('.', document.baseURI).href; // the API root: this page's folder
  var SVGNS = 'http://www.w3.org/2000/svg';
  var PAD = 40, SPAN = 920; // the unit square maps to [PAD, PAD+SPAN] of the 1000-unit view box
  var R = 6; // point radius in view-box units at zoom 1
  var MAX_ZOOM = 12;
  var PAGE = 60; // papers listed before "Show more"
  var RELATED_K = 6;
  // Search answers are ranked; hits scoring under this share of the best
  // one are left off the map as noise.
  var SEARCH_CUTOFF = 0.2;
  // Theme colours are made for the number of themes (see themePalette):
  // hues around the OKLCH circle at three lightness levels, all with at
  // least 3:1 contrast on white, so points read as graphics.
  var LIGHTNESS = [0.50, 0.63, 0.40];
  var LABEL_PX = 12; // theme labels on the map, screen pixels
  var AREA_COLOURS = ['#0969da', '#bc4c00', '#1a7f37', '#8250df', '#bf3989', '#0e7c86', '#9a6700', '#cf222e'];
  var OUTLIER_COLOUR = '#848d97';

  var $ = function (id) { return document.getElementById(id); };
  var S = {
    papers: [], byId: new Map(), themes: [], themeById: new Map(), areas: [], areaColour: new Map(),
    colourBy: 'theme', area: '', from: '', to: '', theme: null, search: null,
    visible: [], shown: PAGE, selected: null, related: [], cursor: null,
    zoom: { k: 1, x: 0, y: 0 }
  };
  var searchCtl = null, detailCtl = null;

  // ---- helpers ----------------------------------------------------------
  function h(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'class') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    if (text != null) e.textContent = text;
    return e;
  }
  // rich fills e with the server's rendering of a title or abstract
  // without trusting it: the markup is parsed in an inert document and
  // copied node by node, keeping text, MathML elements, the inline tags
  // KaTeX and package mathml write, and layout attributes. Any other element
  // (a script, a link) is dropped and its text kept. Without html: text.
  // widget.js has the same function.
  var MATHML = 'http://www.w3.org/1998/Math/MathML';
  var TAGS = /^(span|i|em|b|code|sub|sup)$/;
  var KEEP = /^(display|encoding|width|height|depth|[lr]space|voffset|notation|fence|stretchy|mathvariant|(column|row)(spacing|align|lines)|scriptlevel|displaystyle|math(color|background|size)|linethickness|accent(under)?|separator|(min|max)size|linebreak|largeop)$/;
  function copy(from, to) {
    from.childNodes.forEach(function (n) {
      if (n.nodeType === 3) { to.appendChild(document.createTextNode(n.data)); return; }
      if (n.nodeType !== 1) return;
      var m = n.namespaceURI === MATHML, name = n.localName;
      if (!m && !TAGS.test(name)) { copy(n, to); return; }
      var e = m ? document.createElementNS(MATHML, name) : document.createElement(name);
      Array.prototype.forEach.call(n.attributes, function (a) { if (KEEP.test(a.name)) e.setAttribute(a.name, a.value); });
      to.appendChild(copy(n, e));
    });
    return to;
  }
  function rich(e, html, text) {
    e.textContent = '';
    if (typeof html !== 'string') e.textContent = text == null ? '' : text;
    else copy(new DOMParser().parseFromString(html, 'text/html').body, e);
    return e;
  }
  function s(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function HTTPError(status, detail) { this.status = status; this.detail = detail; }
  function getJSON(path, signal) {
    var opts = { headers: { Accept: 'application/json' }, signal: signal };
    if (!signal && AbortSignal.timeout) opts.signal = AbortSignal.timeout(60000);
    return fetch(API + path, opts).then(function (r) {
      if (r.ok) return r.json();
      return r.json().catch(function () { return {}; }).then(function (p) { throw new HTTPError(r.status, p.detail); });
    });
  }
  function authorsText(a) {
    a = a || [];
    return a.slice(0, 3).join(', ') + (a.length > 3 ? ' et al.' : '');
  }
  function metaText(p) {
    return [authorsText(p.authors), p.year, p.category].filter(Boolean).join(' · ');
  }
  function whyText(w) {
    if (!w) return '';
    if (w.keyphrases && w.keyphrases.length) return 'Shared keyphrases: ' + w.keyphrases.slice(0, 3).join(', ');
    if (w.authors && w.authors.length) return 'Shared authors: ' + w.authors.slice(0, 2).join(', ');
    return sharedTerms(w.terms);
  }
  // sharedTerms names up to three shared terms, phrases before words,
  // leaving out any that repeats a word already named.
  function sharedTerms(terms) {
    terms = (terms || []).filter(function (t) { return t.kind !== 'word'; })
      .concat((terms || []).filter(function (t) { return t.kind === 'word'; }));
    var used = new Set(), out = [];
    terms.forEach(function (t) {
      var words = t.term.split(' ');
      if (out.length === 3 || words.some(function (x) { return used.has(x); })) return;
      words.forEach(function (x) { used.add(x); });
      out.push(t.term);
    });
    return out.length ? 'Shared terms: ' + out.join(', ') : '';
  }
  function paperHref(id) { return '#paper=' + encodeURIComponent(id); }
  // rad is a dot's radius in map units: dots grow a little as the map
  // zooms in (with the square root of the zoom), so close-ups are legible.
  function rad() { return R / Math.sqrt(S.zoom.k); }
  function sx(p) { return PAD + p.x * SPAN; }
  function sy(p) { return PAD + (1 - p.y) * SPAN; }
  function colourOf(p) {
    if (S.colourBy === 'area') return S.areaColour.get(p.category) || OUTLIER_COLOUR;
    var t = S.themeById.get(p.theme);
    return t ? t.colour : OUTLIER_COLOUR;
  }
  function say(msg, isError) {
    var st = $('status');
    st.textContent = msg;
    st.classList.toggle('error', !!isError);
  }
  function quantile(xs, q) {
    xs = xs.slice().sort(function (a, b) { return a - b; });
    return xs.length ? xs[Math.floor((xs.length - 1) * q)] : 500;
  }
  function median(xs) { return quantile(xs, 0.5); }
  function extent(xs) {
    return xs.reduce(function (m, x) { return [Math.min(m[0], x), Math.max(m[1], x)]; }, [Infinity, -Infinity]);
  }

  // themePalette returns n distinct colours: hues spread by the golden
  // angle around the OKLCH circle, cycling through LIGHTNESS, so that
  // colours of close hue differ in lightness. Each has its OKLab
  // coordinates for colourDistance.
  function themePalette(n) {
    var out = [];
    for (var i = 0; i < n; i++) {
      var L = LIGHTNESS[i % LIGHTNESS.length], C = L > 0.6 ? 0.13 : 0.15;
      var hue = (i * 137.508 + 25) % 360 * Math.PI / 180;
      var a = C * Math.cos(hue), b = C * Math.sin(hue);
      out.push({ L: L, a: a, b: b, hex: oklabHex(L, a, b) });
    }
    return out;
  }
  function colourDistance(x, y) {
    return 100 * Math.hypot(x.L - y.L, x.a - y.a, x.b - y.b); // ΔE in OKLab, ×100
  }
  // oklabHex converts OKLab (Ottosson 2020) to an sRGB hex colour,
  // clipping to the gamut.
  function oklabHex(L, a, b) {
    var l = Math.pow(L + 0.3963377774 * a + 0.2158037573 * b, 3);
    var m = Math.pow(L - 0.1055613458 * a - 0.0638541728 * b, 3);
    var s = Math.pow(L - 0.0894841775 * a - 1.2914855480 * b, 3);
    var rgb = [
      4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
      -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
      -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s
    ];
    return '#' + rgb.map(function (v) {
      v = Math.min(1, Math.max(0, v));
      v = v <= 0.0031308 ? 12.92 * v : 1.055 * Math.pow(v, 1 / 2.4) - 0.055;
      return ('0' + Math.round(v * 255).toString(16)).slice(-2);
    }).join('');
  }

  // ---- loading ----------------------------------------------------------
  function loadPapers() {
    var out = [];
    function page(offset) {
      return getJSON('v1/papers?limit=1000&offset=' + offset).then(function (d) {
        out = out.concat(d.papers);
        if (d.papers.length && out.length < d.total) return page(out.length);
        return out;
      });
    }
    return page(0);
  }

  function start() {
    $('map').classList.add('loading');
    say('Loading the landscape…');
    Promise.all([loadPapers(), getJSON('v1/map'), getJSON('v1/clusters')]).then(function (r) {
      init(r[0], r[1].points, r[2].clusters);
    }, function () {
      $('map').classList.remove('loading');
      say('The landscape could not be loaded. Check your connection and try again.', true);
      var retry = h('button', { type: 'button' }, 'Try again');
      retry.addEventListener('click', function () { retry.remove(); start(); });
      $('status').after(retry);
    });
  }

  function init(papers, points, clusters) {
    var pos = new Map(points.map(function (pt) { return [pt.id, pt]; }));
    S.papers = papers.filter(function (p) { return pos.has(p.id); });
    S.papers.forEach(function (p) {
      var pt = pos.get(p.id);
      p.x = pt.x; p.y = pt.y; p.theme = pt.cluster;
      p.year = parseInt((p.date || '').slice(0, 4), 10) || null;
      S.byId.set(p.id, p);
    });
    initThemes(clusters);
    initFilters();
    $('map').classList.remove('loading');
    $('app').removeAttribute('aria-busy');
    update();
    route(false);
    new ResizeObserver(function () { drawLabels(); }).observe($('map'));
  }

  function initThemes(clusters) {
    S.themes = clusters.map(function (c) {
      var members = c.members.map(function (id) { return S.byId.get(id); }).filter(Boolean);
      return {
        id: c.id, label: c.label, short: c.label.split(/, | and /)[0],
        mapLabel: c.label.length <= 26 ? c.label : c.label.split(/, | and /)[0], summary: c.summary || '', outlier: !!c.outlier || c.id < 0,
        size: c.size, members: members,
        cx: median(members.map(sx)), cy: median(members.map(sy)), top: quantile(members.map(sy), 0.15)
      };
    });
    // Colour themes so that neighbours on the map differ: one colour per
    // theme from a palette made for their number; larger themes first,
    // each taking the unused colour that differs most from the colours of
    // the themes already coloured near it (weighted by closeness).
    var coloured = S.themes.filter(function (t) { return !t.outlier; });
    var palette = themePalette(coloured.length), done = [];
    coloured.slice().sort(function (a, b) { return b.size - a.size || a.id - b.id; }).forEach(function (t) {
      var best = -1, bestScore = -Infinity;
      palette.forEach(function (c, i) {
        if (c.used) return;
        var score = Infinity;
        done.forEach(function (o) {
          var d = Math.hypot(o.cx - t.cx, o.cy - t.cy) / 1000; // map widths
          score = Math.min(score, colourDistance(c, o.lab) + 60 * d);
        });
        if (score > bestScore) { bestScore = score; best = i; }
      });
      palette[best].used = true;
      t.colour = palette[best].hex;
      t.lab = palette[best];
      done.push(t);
    });
    S.themes.forEach(function (t) { if (t.outlier) t.colour = OUTLIER_COLOUR; });
    S.themes.forEach(function (t) { S.themeById.set(t.id, t); });
    $('theme-count').textContent = '(' + S.themes.filter(function (t) { return !t.outlier; }).length + ')';
    var ol = $('themes');
    S.themes.forEach(function (t) {
      var li = h('li', { 'data-theme': t.id });
      var b = h('button', { type: 'button', 'aria-pressed': 'false' });
      var sw = h('span', { class: 'swatch', 'aria-hidden': 'true' });
      sw.style.background = t.colour;
      b.append(sw, h('span', null, t.label), h('span', { class: 'size' }, t.size + (t.size === 1 ? ' paper' : ' papers')));
      b.addEventListener('click', function () { setTheme(S.theme === t.id ? null : t.id); });
      li.appendChild(b);
      if (t.summary) li.appendChild(h('p', null, t.summary));
      ol.appendChild(li);
    });
  }

  function initFilters() {
    var areas = new Map();
    S.papers.forEach(function (p) { if (p.category) areas.set(p.category, (areas.get(p.category) || 0) + 1); });
    S.areas = Array.from(areas.keys()).sort();
    S.areas.forEach(function (a, i) {
      S.areaColour.set(a, AREA_COLOURS[i % AREA_COLOURS.length]);
      $('area').appendChild(h('option', { value: a }, a + ' (' + areas.get(a) + ')'));
    });
    var years = S.papers.map(function (p) { return p.year; }).filter(Boolean);
    var lo = extent(years)[0], hi = extent(years)[1];
    for (var y = hi; years.length && y >= lo; y--) {
      $('from').appendChild(h('option', { value: y }, String(y)));
      $('to').appendChild(h('option', { value: y }, String(y)));
    }
    $('area').addEventListener('change', function () { S.area = this.value; filtersChanged(); });
    $('from').addEventListener('change', function () { S.from = this.value; filtersChanged(); });
    $('to').addEventListener('change', function () { S.to = this.value; filtersChanged(); });
    document.querySelectorAll('input[name="colour"]').forEach(function (r) {
      r.addEventListener('change', function () { if (r.checked) { S.colourBy = r.value; draw(); } });
    });
  }

  // ---- filtering ----------------------------------------------------------
  function passes(p) {
    if (S.area && p.category !== S.area) return false;
    if (S.from && !(p.year >= +S.from)) return false;
    if (S.to && !(p.year <= +S.to)) return false;
    if (S.theme !== null && p.theme !== S.theme) return false;
    return true;
  }
  function filtersChanged() {
    S.shown = PAGE;
    if (S.search) runSearch(S.search.q); else update();
  }
  function setTheme(id) {
    S.theme = id;
    document.querySelectorAll('#themes li').forEach(function (li) {
      li.firstChild.setAttribute('aria-pressed', String(+li.getAttribute('data-theme') === id));
    });
    S.shown = PAGE;
    update();
  }

  function update() {
    var pool = S.search ? S.search.order.map(function (id) { return S.byId.get(id); }).filter(Boolean) : S.papers;
    S.visible = pool.filter(passes);
    draw();
    fitView();
    drawList();
    var n = S.visible.length, msg;
    var what = n === 1 ? '1 paper' : n + ' papers';
    if (S.search) msg = n ? what + (n === 1 ? ' matches “' : ' match “') + S.search.q + '”.' : 'No papers match “' + S.search.q + '”' + (S.area || S.from || S.to || S.theme !== null ? ' with these filters.' : '.');
    else msg = what + ' shown.';
    if (S.theme !== null) msg += ' Theme: ' + S.themeById.get(S.theme).label + '.';
    say(msg);
    $('clear').hidden = !(S.search || S.area || S.from || S.to || S.theme !== null);
  }

  // ---- search -------------------------------------------------------------
  function runSearch(q) {
    q = q.trim();
    if (searchCtl) searchCtl.abort();
    if (!q) { S.search = null; update(); return; }
    searchCtl = new AbortController();
    var params = new URLSearchParams({ q: q, k: '100' });
    if (S.area) params.set('category', S.area);
    if (S.from) params.set('from', S.from);
    if (S.to) params.set('to', S.to);
    say('Searching for “' + q + '”…');
    getJSON('v1/search?' + params, searchCtl.signal).then(function (d) {
      var res = d.results || [];
      var top = res.length ? res[0].score : 0;
      var keep = res.filter(function (r) { return r.score > 0 && r.score >= top * SEARCH_CUTOFF; });
      S.search = { q: q, order: keep.map(function (r) { return r.id; }) };
      S.shown = PAGE;
      update();
    }, function (e) {
      if (e && e.name === 'AbortError') return;
      say(e instanceof HTTPError && e.status === 400 && e.detail ? 'Search: ' + e.detail : 'The search failed. Please try again.', true);
    });
  }

  // ---- the map ------------------------------------------------------------
  function draw() {
    var g = $('points');
    g.textContent = '';
    var k = S.zoom.k;
    var frag = document.createDocumentFragment();
    S.visible.forEach(function (p) {
      frag.appendChild(s('circle', {
        class: 'p' + (p.theme < 0 ? ' out' : ''), cx: sx(p), cy: sy(p), r: rad(), 'stroke-width': 1 / k,
        fill: colourOf(p), 'data-paper-id': p.id
      }));
    });
    g.appendChild(frag);
    $('map').setAttribute('data-point-count', String(S.visible.length));
    $('map').setAttribute('aria-label', 'Map of ' + S.visible.length + ' papers');
    drawLegend();
    drawMarks();
    drawLabels();
  }

  function drawLegend() {
    var lg = $('legend');
    lg.textContent = '';
    if (S.colourBy === 'area') {
      S.areas.forEach(function (a) {
        var sp = h('span'), sw = h('span', { class: 'swatch', 'aria-hidden': 'true' });
        sw.style.background = S.areaColour.get(a);
        sp.append(sw, a);
        lg.appendChild(sp);
      });
    } else {
      lg.appendChild(h('span', null, 'Colours mark research themes (see the Themes tab).'));
      if (S.themes.some(function (t) { return t.outlier; })) {
        var sp = h('span'), sw = h('span', { class: 'swatch', 'aria-hidden': 'true' });
        sw.style.background = OUTLIER_COLOUR;
        sp.append(sw, 'Other papers');
        lg.appendChild(sp);
      }
    }
  }

  // pxPerUnit is how many screen pixels one view-box unit takes.
  function pxPerUnit() {
    var m = $('svg').getScreenCTM();
    return m && m.a ? m.a : 0.7;
  }

  // drawLabels names each theme on the map: largest first, each label at
  // the first place near its theme's centre (a spiral of candidate
  // positions) where it overlaps no label already placed and stays inside
  // the view, with a leader line when it had to move away; one that finds
  // no place tries again at 80% and then 65% of the size. A theme whose
  // centre is outside the view (when zoomed) is not labelled, rather than
  // labelled at the edge. Labels keep LABEL_PX on screen at any zoom.
  function drawLabels() {
    var g = $('labels');
    g.textContent = '';
    var k = S.zoom.k, ppu = pxPerUnit(), z = S.zoom;
    var font = LABEL_PX / ppu / k, pad = 2 / ppu / k;
    var vx0 = -z.x / k, vx1 = (1000 - z.x) / k, vy0 = -z.y / k, vy1 = (1000 - z.y) / k;
    var members = new Map();
    S.visible.forEach(function (p) {
      if (!members.has(p.theme)) members.set(p.theme, []);
      members.get(p.theme).push(p);
    });
    var placed = [];
    function free(b) {
      if (b.x0 < vx0 || b.x1 > vx1 || b.y0 < vy0 || b.y1 > vy1) return false;
      return !placed.some(function (o) { return b.x0 < o.x1 && o.x0 < b.x1 && b.y0 < o.y1 && o.y0 < b.y1; });
    }
    S.themes.filter(function (t) { return !t.outlier && members.has(t.id); })
      .sort(function (a, b) { return members.get(b.id).length - members.get(a.id).length || a.id - b.id; })
      .forEach(function (t) {
        var ms = members.get(t.id);
        var cx = median(ms.map(sx)), cy = median(ms.map(sy));
        if (cx < vx0 || cx > vx1 || cy < vy0 || cy > vy1) return; // off screen
        var txt = s('text', { 'data-theme': t.id });
        txt.textContent = t.mapLabel;
        g.appendChild(txt);
        var at = null, hgt = 0;
        // A label that finds no place at full size on a crowded map tries
        // again smaller, rather than leave its theme unnamed.
        [1, 0.8, 0.65].forEach(function (scale) {
          if (at) return;
          var f = font * scale;
          txt.setAttribute('font-size', f);
          txt.setAttribute('stroke-width', f / 3.5);
          var bb = txt.getBBox(), w = (bb.width || t.mapLabel.length * f * 0.6) + 2 * pad;
          hgt = f * 1.15 + 2 * pad;
          // Candidates: the centre, then rings of growing radius, eight to
          // thirty-two directions each, upper ones first.
          for (var ring = 0; ring <= 40 && !at; ring++) {
            var r = ring * hgt * 0.9, steps = ring === 0 ? 1 : Math.min(32, 8 * Math.ceil(ring / 2));
            for (var i = 0; i < steps && !at; i++) {
              var a = -Math.PI / 2 + (i % 2 ? 1 : -1) * Math.ceil(i / 2) * 2 * Math.PI / steps;
              var x = cx + r * Math.cos(a) * 1.6, y = cy + r * Math.sin(a);
              var box = { x0: x - w / 2, x1: x + w / 2, y0: y - hgt / 2, y1: y + hgt / 2 };
              if (free(box)) at = { x: x, y: y, box: box, r: r, font: f };
            }
          }
        });
        if (!at) { txt.remove(); return; }
        placed.push(at.box);
        txt.setAttribute('x', at.x);
        txt.setAttribute('y', at.y + at.font * 0.35);
        if (at.r > hgt * 1.5) {
          // A leader from the label's nearest edge to the theme's centre.
          var ex = Math.max(at.box.x0, Math.min(at.box.x1, cx)), ey = Math.max(at.box.y0, Math.min(at.box.y1, cy));
          g.insertBefore(s('line', { class: 'leader', x1: ex, y1: ey, x2: cx, y2: cy, 'stroke-width': 1 / ppu / k }), g.firstChild);
        }
      });
  }

  function drawMarks() {
    var marks = $('marks'), links = $('links');
    marks.textContent = '';
    links.textContent = '';
    var k = S.zoom.k;
    var sel = S.selected && S.byId.get(S.selected);
    var shown = new Set(S.visible);
    if (sel && shown.has(sel)) {
      S.related.forEach(function (id) {
        var q = S.byId.get(id);
        if (!q || !shown.has(q)) return;
        links.appendChild(s('line', { x1: sx(sel), y1: sy(sel), x2: sx(q), y2: sy(q), 'stroke-width': 1.5 / k }));
        marks.appendChild(s('circle', { class: 'rel', cx: sx(q), cy: sy(q), r: rad() + 4 / k, 'stroke-width': 1.5 / k }));
      });
      marks.appendChild(s('circle', { class: 'sel', cx: sx(sel), cy: sy(sel), r: rad() + 5 / k, 'stroke-width': 3 / k }));
    }
    if (S.cursor && shown.has(S.cursor)) {
      marks.appendChild(s('circle', { class: 'cur', cx: sx(S.cursor), cy: sy(S.cursor), r: rad() + 8 / k, 'stroke-width': 3 / k }));
    }
  }

  function applyZoom() {
    var z = S.zoom;
    z.k = Math.min(MAX_ZOOM, Math.max(1, z.k));
    z.x = Math.min(0, Math.max(1000 * (1 - z.k), z.x));
    z.y = Math.min(0, Math.max(1000 * (1 - z.k), z.y));
    $('view').setAttribute('transform', 'translate(' + z.x + ' ' + z.y + ') scale(' + z.k + ')');
    $('map').classList.toggle('zoomed', z.k > 1);
    var k = z.k;
    $('points').querySelectorAll('circle').forEach(function (c) {
      c.setAttribute('r', rad());
      c.setAttribute('stroke-width', 1 / k);
    });
    drawMarks();
    drawLabels();
    hideTip();
  }
  // fitView frames the papers shown: all of them at zoom 1, a search or a
  // theme closer up (at most 4x, so the neighbourhood stays in sight).
  function fitView() {
    var v = S.visible;
    if (!v.length || v.length === S.papers.length) {
      S.zoom = { k: 1, x: 0, y: 0 };
    } else {
      var ex = extent(v.map(sx)), ey = extent(v.map(sy));
      var x0 = ex[0], x1 = ex[1], y0 = ey[0], y1 = ey[1];
      var k = Math.min(4, Math.max(1, 1000 / (Math.max(x1 - x0, y1 - y0) + 160)));
      S.zoom = { k: k, x: 500 - (x0 + x1) / 2 * k, y: 500 - (y0 + y1) / 2 * k };
    }
    applyZoom();
  }
  function zoomAt(factor, ux, uy) {
    var z = S.zoom, k2 = Math.min(MAX_ZOOM, Math.max(1, z.k * factor));
    var dx = (ux - z.x) / z.k, dy = (uy - z.y) / z.k;
    z.x = ux - dx * k2; z.y = uy - dy * k2; z.k = k2;
    applyZoom();
  }
  // toView converts a client position to view-box units.
  function toView(clientX, clientY) {
    var svg = $('svg'), pt = new DOMPoint(clientX, clientY).matrixTransform(svg.getScreenCTM().inverse());
    return { x: pt.x, y: pt.y };
  }
  function nearest(clientX, clientY, maxPx) {
    var v = toView(clientX, clientY), z = S.zoom;
    var dx0 = (v.x - z.x) / z.k, dy0 = (v.y - z.y) / z.k;
    var lim = maxPx / pxPerUnit() / z.k, best = null, bestD = lim * lim;
    S.visible.forEach(function (p) {
      var d = (sx(p) - dx0) * (sx(p) - dx0) + (sy(p) - dy0) * (sy(p) - dy0);
      if (d <= bestD) { bestD = d; best = p; }
    });
    return best;
  }
  function screenPos(p) {
    var z = S.zoom, ppu = pxPerUnit();
    var r = $('svg').getBoundingClientRect(), box = $('map').getBoundingClientRect();
    var side = Math.min(r.width, r.height);
    var offX = r.left - box.left + (r.width - side) / 2, offY = r.top - box.top + (r.height - side) / 2;
    return { x: offX + (sx(p) * z.k + z.x) * ppu, y: offY + (sy(p) * z.k + z.y) * ppu };
  }
  function showTip(p) {
    var tip = $('tip'), at = screenPos(p);
    rich(tip, p.title_html, p.title);
    tip.hidden = false;
    var box = $('map').getBoundingClientRect();
    tip.style.left = Math.min(box.width - 20, Math.max(20, at.x)) + 'px';
    tip.style.top = at.y + 'px';
  }
  function hideTip() { $('tip').hidden = true; }

  function initMap() {
    var map = $('map'), drag = null;
    map.addEventListener('pointerdown', function (e) {
      if (e.button !== 0) return;
      drag = { id: e.pointerId, x: e.clientX, y: e.clientY, zx: S.zoom.x, zy: S.zoom.y, moved: false };
    });
    map.addEventListener('pointermove', function (e) {
      if (drag && drag.id === e.pointerId) {
        var dist = Math.hypot(e.clientX - drag.x, e.clientY - drag.y);
        if (!drag.moved && dist > 5 && S.zoom.k > 1) {
          drag.moved = true;
          map.setPointerCapture(e.pointerId);
          map.classList.add('dragging');
          hideTip();
        }
        if (drag.moved) {
          var ppu = pxPerUnit();
          S.zoom.x = drag.zx + (e.clientX - drag.x) / ppu;
          S.zoom.y = drag.zy + (e.clientY - drag.y) / ppu;
          applyZoom();
        }
        return;
      }
      if (e.pointerType === 'mouse') {
        var p = nearest(e.clientX, e.clientY, 14);
        if (p) showTip(p); else hideTip();
        map.style.cursor = p ? 'pointer' : '';
      }
    });
    function end(e) {
      if (!drag || drag.id !== e.pointerId) return;
      var wasDrag = drag.moved;
      drag = null;
      map.classList.remove('dragging');
      if (wasDrag || e.type === 'pointercancel') return;
      var p = nearest(e.clientX, e.clientY, e.pointerType === 'touch' ? 22 : 14);
      if (p) { S.cursor = p; openFromUser(p.id); }
    }
    map.addEventListener('pointerup', end);
    map.addEventListener('pointercancel', end);
    map.addEventListener('pointerleave', function (e) { if (e.pointerType === 'mouse') hideTip(); });
    map.addEventListener('wheel', function (e) {
      if (!e.ctrlKey && !e.metaKey) return; // plain wheel scrolls the page; pinch and Ctrl+wheel zoom
      e.preventDefault();
      var v = toView(e.clientX, e.clientY);
      zoomAt(Math.exp(-e.deltaY * 0.01), v.x, v.y);
    }, { passive: false });
    map.addEventListener('keydown', onMapKey);
    map.addEventListener('blur', function () { hideTip(); });
    $('zoom-in').addEventListener('click', function () { zoomAt(1.6, 500, 500); });
    $('zoom-out').addEventListener('click', function () { zoomAt(1 / 1.6, 500, 500); });
    $('zoom-reset').addEventListener('click', function () { S.zoom = { k: 1, x: 0, y: 0 }; applyZoom(); });
  }

  var DIRS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  function onMapKey(e) {
    if (!S.visible.length) return;
    var dir = DIRS[e.key];
    if (dir) {
      e.preventDefault();
      var cur = S.cursor && S.visible.indexOf(S.cursor) >= 0 ? S.cursor : null;
      var next;
      if (!cur) {
        var sel = S.selected && S.byId.get(S.selected);
        if (sel && S.visible.indexOf(sel) >= 0) next = sel;
        else {
          var z = S.zoom, cx = (500 - z.x) / z.k, cy = (500 - z.y) / z.k, bestD = Infinity;
          S.visible.forEach(function (p) {
            var d = Math.hypot(sx(p) - cx, sy(p) - cy);
            if (d < bestD) { bestD = d; next = p; }
          });
        }
      } else {
        var best = Infinity;
        S.visible.forEach(function (p) {
          if (p === cur) return;
          var dx = sx(p) - sx(cur), dy = sy(p) - sy(cur);
          var along = dx * dir[0] + dy * dir[1];
          if (along <= 0) return;
          var cost = along + 2.5 * Math.abs(dx * dir[1] - dy * dir[0]);
          if (cost < best) { best = cost; next = p; }
        });
        if (!next) return;
      }
      moveCursor(next);
    } else if ((e.key === 'Enter' || e.key === ' ') && S.cursor) {
      e.preventDefault();
      openFromUser(S.cursor.id);
    } else if (e.key === '+' || e.key === '=') {
      e.preventDefault();
      var c = S.cursor ? { x: sx(S.cursor) * S.zoom.k + S.zoom.x, y: sy(S.cursor) * S.zoom.k + S.zoom.y } : { x: 500, y: 500 };
      zoomAt(1.6, c.x, c.y);
      if (S.cursor) showTip(S.cursor);
    } else if (e.key === '-' || e.key === '_') {
      e.preventDefault();
      zoomAt(1 / 1.6, 500, 500);
    } else if (e.key === '0') {
      S.zoom = { k: 1, x: 0, y: 0 };
      applyZoom();
    } else if (e.key === 'Escape') {
      S.cursor = null;
      hideTip();
      drawMarks();
    }
  }
  function moveCursor(p) {
    S.cursor = p;
    // Keep the cursor in view: pan when it leaves the visible part.
    var z = S.zoom, vx = sx(p) * z.k + z.x, vy = sy(p) * z.k + z.y;
    if (vx < 40 || vx > 960 || vy < 40 || vy > 960) {
      z.x = 500 - sx(p) * z.k; z.y = 500 - sy(p) * z.k;
      applyZoom();
    } else {
      drawMarks();
    }
    showTip(p);
    var t = S.themeById.get(p.theme);
    rich($('cursor-live'), p.title_html, p.title).append((p.year ? ', ' + p.year : '') + (t && !t.outlier ? '. Theme: ' + t.short : '') + '. Press Enter to open.');
  }

  // ---- the list -----------------------------------------------------------
  function drawList() {
    var ol = $('papers');
    ol.textContent = '';
    var n = S.visible.length;
    $('paper-count').textContent = '(' + n + ')';
    S.visible.slice(0, S.shown).forEach(function (p) {
      var li = h('li'), a = h('a', { href: paperHref(p.id), 'data-paper-id': p.id });
      if (p.id === S.selected) a.setAttribute('aria-current', 'true');
      a.append(rich(h('span', { class: 't' }), p.title_html, p.title), h('span', { class: 'm' }, metaText(p)));
      li.appendChild(a);
      ol.appendChild(li);
    });
    var more = $('more');
    more.hidden = n <= S.shown;
    more.textContent = 'Show more papers (' + Math.max(0, n - S.shown) + ' more)';
  }

  // ---- the detail panel ---------------------------------------------------
  function openFromUser(id) {
    if (decodeHash() === id) { openPaper(id, true); return; }
    location.hash = paperHref(id); // the hashchange handler opens it, and Back returns
  }
  function decodeHash() {
    var m = /^#paper=(.+)$/.exec(location.hash);
    if (!m) return null;
    try { return decodeURIComponent(m[1]); } catch (e) { return null; }
  }
  function route(focus) {
    var id = decodeHash();
    if (id) openPaper(id, focus); else closePaper();
  }

  function closePaper() {
    if (detailCtl) detailCtl.abort();
    S.selected = null;
    S.related = [];
    var d = $('detail');
    d.removeAttribute('data-paper-id');
    d.removeAttribute('data-state');
    d.textContent = '';
    d.append(h('h2', { id: 'detail-title', class: 'placeholder-title' }, 'No paper selected'),
      h('p', { class: 'hint' }, 'Pick a dot on the map, a paper in the list or a search result to see its abstract, keyphrases, related papers and research theme.'));
    markCurrent();
    drawMarks();
  }

  function markCurrent() {
    document.querySelectorAll('#papers a').forEach(function (a) {
      if (a.getAttribute('data-paper-id') === S.selected) a.setAttribute('aria-current', 'true');
      else a.removeAttribute('aria-current');
    });
  }

  function openPaper(id, focus) {
    if (detailCtl) detailCtl.abort();
    detailCtl = new AbortController();
    var signal = detailCtl.signal;
    var known = S.byId.get(id);
    S.selected = id;
    S.related = [];
    markCurrent();
    drawMarks();
    var d = $('detail');
    d.setAttribute('data-paper-id', id);
    d.setAttribute('data-state', 'loading');
    d.setAttribute('aria-busy', 'true');
    d.textContent = '';
    var title = known ? rich(h('h2', { id: 'detail-title', tabindex: '-1' }), known.title_html, known.title) : h('h2', { id: 'detail-title', tabindex: '-1' }, 'Loading…');
    d.append(closeButton(), title, h('p', { class: 'meta' }, known ? metaText(known) : ''), h('p', { class: 'hint' }, 'Loading the abstract and related papers…'));
    if (focus) title.focus();

    Promise.all([
      getJSON('v1/papers/' + encodeURIComponent(id), signal),
      getJSON('v1/papers/' + encodeURIComponent(id) + '/related?k=' + RELATED_K, signal)
    ]).then(function (r) {
      renderDetail(r[0], r[1].related || [], focus);
    }, function (e) {
      if (e && e.name === 'AbortError') return;
      d.removeAttribute('aria-busy');
      d.setAttribute('data-state', 'error');
      d.textContent = '';
      var t = h('h2', { id: 'detail-title', tabindex: '-1' }, e instanceof HTTPError && e.status === 404 ? 'No such paper' : 'This paper could not be loaded');
      d.append(closeButton(), t, h('p', null, e instanceof HTTPError && e.status === 404 ? 'No paper has the ID “' + id + '”.' : 'Please check your connection and try again.'));
      if (focus) t.focus();
    });
  }

  function closeButton() {
    var b = h('button', { type: 'button', class: 'close', 'aria-label': 'Close paper details' }, '×');
    b.addEventListener('click', function () {
      history.pushState(null, '', location.pathname + location.search);
      closePaper();
      $('map').focus();
    });
    return b;
  }

  function renderDetail(p, related, focus) {
    var d = $('detail');
    var local = S.byId.get(p.id) || {};
    S.related = related.map(function (r) { return r.id; });
    drawMarks();
    d.textContent = '';
    var theme = S.themeById.get(p.cluster);
    var title = rich(h('h2', { id: 'detail-title', tabindex: '-1' }), p.title_html, p.title);
    var year = parseInt((p.date || '').slice(0, 4), 10) || '';
    d.append(closeButton(), title,
      h('p', { class: 'meta' }, [authorsText(p.authors) + (p.authors_truncated ? ' et al.' : ''), p.date || year, p.category].filter(Boolean).join(' · ')));
    if (theme) {
      var chip = h('p', { class: 'theme-chip' });
      var sw = h('span', { class: 'swatch', 'aria-hidden': 'true' });
      sw.style.background = theme.colour;
      var tb = h('button', { type: 'button', title: 'Show this theme on the map' }, theme.label);
      tb.addEventListener('click', function () { setTheme(theme.id); });
      chip.append(sw, 'Theme: ', tb);
      d.appendChild(chip);
    }
    if (p.abstract) {
      var abs = rich(h('p', { class: 'abstract clamped', id: 'abstract' }), p.abstract_html, p.abstract);
      d.append(h('h3', null, 'Abstract'), abs);
      if (p.abstract.length > 480) {
        var more = h('button', { type: 'button', class: 'link', 'aria-controls': 'abstract', 'aria-expanded': 'false' }, 'Show the full abstract');
        more.addEventListener('click', function () {
          var open = abs.classList.toggle('clamped') === false;
          more.setAttribute('aria-expanded', String(open));
          more.textContent = open ? 'Show less' : 'Show the full abstract';
        });
        d.appendChild(more);
      } else {
        abs.classList.remove('clamped');
      }
    }
    var kws = p.keywords && p.keywords.length ? p.keywords : local.keywords || [];
    if (kws.length) {
      var ul = h('ul', { class: 'keyphrases', 'aria-label': 'Keyphrases' });
      kws.forEach(function (k) { ul.appendChild(h('li', null, k)); });
      d.append(h('h3', null, 'Keyphrases'), ul);
    }
    d.appendChild(h('h3', null, 'Related papers'));
    if (related.length) {
      var ol = h('ol', { class: 'related' });
      related.forEach(function (r) {
        var li = h('li', { 'data-paper-id': r.id });
        li.append(rich(h('a', { href: paperHref(r.id) }), r.title_html, r.title),
          h('span', { class: 'm' }, [authorsText(r.authors), (r.date || '').slice(0, 4), r.category].filter(Boolean).join(' · ')));
        var w = whyText(r.why);
        if (w) li.appendChild(h('span', { class: 'w' }, w));
        ol.appendChild(li);
      });
      d.appendChild(ol);
    } else {
      d.appendChild(h('p', { class: 'hint' }, 'No related papers.'));
    }
    if (theme && theme.summary) {
      d.append(h('h3', null, 'About this theme'), h('p', { class: 'theme-summary' }, theme.summary));
    }
    d.removeAttribute('aria-busy');
    d.setAttribute('data-state', 'ready');
    if (focus) title.focus();
  }

  // ---- wiring -------------------------------------------------------------
  function initTabs() {
    var tabs = [$('tab-papers'), $('tab-themes')];
    function select(t) {
      tabs.forEach(function (x) {
        var on = x === t;
        x.setAttribute('aria-selected', String(on));
        x.tabIndex = on ? 0 : -1;
        $(x.getAttribute('aria-controls')).hidden = !on;
      });
    }
    tabs.forEach(function (t, i) {
      t.addEventListener('click', function () { select(t); });
      t.addEventListener('keydown', function (e) {
        var j = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? tabs.length - 1 : null;
        if (j === null) return;
        e.preventDefault();
        var n = tabs[(j + tabs.length) % tabs.length];
        select(n);
        n.focus();
      });
    });
  }

  function wire() {
    var debounce = null;
    $('search').addEventListener('submit', function (e) {
      e.preventDefault();
      clearTimeout(debounce);
      runSearch($('q').value);
    });
    $('q').addEventListener('input', function () {
      clearTimeout(debounce);
      var v = $('q').value.trim();
      if (!v) { runSearch(''); return; }
      if (v.length >= 3) debounce = setTimeout(function () { runSearch(v); }, 400);
    });
    $('more').addEventListener('click', function () {
      var first = S.shown;
      S.shown += 100;
      drawList();
      var a = $('papers').querySelectorAll('a')[first];
      if (a) a.focus();
    });
    $('clear').addEventListener('click', function () {
      $('q').value = '';
      $('area').value = $('from').value = $('to').value = '';
      S.area = S.from = S.to = '';
      S.search = null;
      if (searchCtl) searchCtl.abort();
      setTheme(null);
      $('q').focus();
    });
    window.addEventListener('hashchange', function () { route(true); });
    window.addEventListener('popstate', function () { if (!decodeHash()) closePaper(); });
    initTabs();
    initMap();
  }

  wire();
  start();
})();
