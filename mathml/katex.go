package mathml

import (
	_ "embed"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/dop251/goja"
	lru "github.com/hashicorp/golang-lru/v2"
)

// katexSource is KaTeX's minified browser build (third_party/katex: the
// version and licence are there).
//
//go:embed third_party/katex/katex.min.js
var katexSource string

// renderSource wraps katex.renderToString. Output is MathML only (no HTML
// layout, so no fonts or style sheet), trust is off (no \href, \url,
// \htmlClass...), and strict is off so Unicode letters in math (δ, τ) are
// taken as they are. A command that trust refuses is drawn in errorColor:
// that expression throws too. Each call gets a fresh macro table, so \gdef in one
// expression cannot leak into another. An undefined command is defined as
// its own name set upright (\nnbar → nnbar), as the text outside math
// treats it, and the expression is parsed again; any other error throws.
const renderSource = `
function paperrecRender(tex, display) {
	var macros = {};
	for (var tries = 0; ; tries++) {
		try {
			var out = katex.renderToString(tex, {
				displayMode: display, output: "mathml", throwOnError: true, errorColor: "#cc0001",
				strict: "ignore", trust: false, maxSize: 50, maxExpand: 1000, macros: macros
			});
		} catch (e) {
			var m = tries < 8 && /^KaTeX parse error: Undefined control sequence: \\([A-Za-z]+)/.exec(String(e && e.message));
			if (!m) throw e;
			macros["\\" + m[1]] = "\\text{" + m[1] + "}";
			continue;
		}
		if (out.indexOf('mathcolor="#cc0001"') >= 0) throw new Error("untrusted command");
		return out;
	}
}
`

// Limits of the math engine.
const (
	// maxExprBytes bounds one expression: longer ones show as source. The
	// longest in the bundled listing is 63 bytes.
	maxExprBytes = 2000
	// maxCallStack bounds the JavaScript call stack: deeply nested input
	// fails fast instead of growing the Go stack. Expressions nested 200
	// groups deep still render.
	maxCallStack = 5000
	// exprTimeout stops one expression that runs away (one of the listing
	// takes 0.4 to 2 ms; 150 nested fractions, 0.5 s).
	exprTimeout = 2 * time.Second
	// cacheSize bounds the rendered expressions kept. The bundled listing
	// has 616 distinct expressions, which take 0.8 MiB of heap cached.
	cacheSize = 4096
)

var errTimeout = errors.New("mathml: expression took too long")

// mathKey is one expression as the cache knows it.
type mathKey struct {
	tex     string
	display bool
}

// mathResult is a rendered expression; ok is false when KaTeX rejected it.
type mathResult struct {
	html string
	ok   bool
}

// vm is one JavaScript runtime with KaTeX loaded.
type vm struct {
	rt     *goja.Runtime
	render goja.Callable
}

// engine renders TeX math to MathML with KaTeX in goja. Safe for concurrent
// use: goja runtimes are not, so each render borrows one from a pool of at
// most GOMAXPROCS, created on demand; rendered expressions are cached.
type engine struct {
	program func() (*goja.Program, error) // compiled once, on first use
	slots   chan struct{}                 // one token per runtime in use
	idle    chan *vm
	cache   *lru.Cache[mathKey, mathResult]
	timeout time.Duration // per expression
	// stats, for tests and measurements
	mu              sync.Mutex
	started, failed int // runtimes started; expressions rejected
	rendered        int // expressions rendered (cache misses)
}

func newEngine(runtimes, entries int) *engine {
	if runtimes < 1 {
		runtimes = runtime.GOMAXPROCS(0)
	}
	cache, err := lru.New[mathKey, mathResult](entries)
	if err != nil {
		panic(err) // entries > 0: a programmer error
	}
	return &engine{
		program: sync.OnceValues(func() (*goja.Program, error) {
			return goja.Compile("katex.min.js", katexSource+renderSource, true)
		}),
		slots:   make(chan struct{}, runtimes),
		idle:    make(chan *vm, runtimes),
		cache:   cache,
		timeout: exprTimeout,
	}
}

// math renders one expression as MathML (wrapped in a span of class katex,
// or katex-display) and reports whether KaTeX accepted it.
func (e *engine) math(tex string, display bool) (string, bool) {
	if len(tex) > maxExprBytes {
		return "", false
	}
	key := mathKey{tex, display}
	if r, ok := e.cache.Get(key); ok {
		return r.html, r.ok
	}
	html, err := e.run(tex, display)
	if errors.Is(err, errTimeout) {
		return "", false // may pass on a quieter machine: not cached
	}
	r := mathResult{mathVariants(html), err == nil}
	e.cache.Add(key, r)
	e.mu.Lock()
	e.rendered++
	if !r.ok {
		e.failed++
	}
	e.mu.Unlock()
	return r.html, r.ok
}

// run renders tex on a pooled runtime.
func (e *engine) run(tex string, display bool) (string, error) {
	e.slots <- struct{}{}
	defer func() { <-e.slots }()
	var v *vm
	select {
	case v = <-e.idle:
	default:
		var err error
		if v, err = e.newVM(); err != nil {
			return "", err
		}
	}
	timer := time.AfterFunc(e.timeout, func() { v.rt.Interrupt(errTimeout) })
	out, err := v.render(goja.Undefined(), v.rt.ToValue(tex), v.rt.ToValue(display))
	stopped := timer.Stop()
	var ex *goja.Exception
	if stopped && (err == nil || errors.As(err, &ex)) {
		// Done, or KaTeX threw: the runtime is sound. (Interrupted, out of
		// stack, or the timer fired meanwhile: it is dropped, and a later
		// render starts another.)
		select {
		case e.idle <- v:
		default:
		}
	}
	var ie *goja.InterruptedError
	switch {
	case errors.As(err, &ie):
		return "", errTimeout
	case err != nil:
		return "", err
	}
	return out.String(), nil
}

func (e *engine) newVM() (*vm, error) {
	prog, err := e.program()
	if err != nil {
		return nil, err
	}
	rt := goja.New()
	rt.SetMaxCallStackSize(maxCallStack)
	if _, err := rt.RunProgram(prog); err != nil {
		return nil, err
	}
	render, ok := goja.AssertFunction(rt.Get("paperrecRender"))
	if !ok {
		return nil, errors.New("mathml: KaTeX did not load")
	}
	e.mu.Lock()
	e.started++
	e.mu.Unlock()
	return &vm{rt: rt, render: render}, nil
}
