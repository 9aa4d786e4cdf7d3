package api

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// labelBoxes measures the theme labels on the explorer's map: their screen
// boxes, the pairs that overlap, those not inside the map, and the theme
// colours of the theme list.
const labelBoxes = `(() => {
	const map = document.querySelector('#map').getBoundingClientRect();
	const boxes = Array.from(document.querySelectorAll('#labels text')).map(e => {
		const r = e.getBoundingClientRect();
		return {id: e.dataset.theme, text: e.textContent, x0: r.left, x1: r.right, y0: r.top, y1: r.bottom};
	});
	const overlaps = [];
	for (let i = 0; i < boxes.length; i++) {
		for (let j = i + 1; j < boxes.length; j++) {
			const a = boxes[i], b = boxes[j];
			if (a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1) overlaps.push(a.text + ' / ' + b.text);
		}
	}
	const outside = boxes.filter(b => b.x0 < map.left || b.x1 > map.right || b.y0 < map.top || b.y1 > map.bottom).map(b => b.text);
	const colours = Array.from(document.querySelectorAll('#themes li')).filter(li => +li.dataset.theme >= 0)
		.map(li => getComputedStyle(li.querySelector('.swatch')).backgroundColor);
	return {ids: boxes.map(b => b.id), overlaps, outside, colours};
})()`

type labelReport struct {
	IDs      []string `json:"ids"`
	Overlaps []string `json:"overlaps"`
	Outside  []string `json:"outside"`
	Colours  []string `json:"colours"`
}

// TestBrowserThemeLabels checks the explorer's map at the default size:
// every theme has a label, no two labels overlap, each theme has a colour
// of its own; and, zoomed in, that labels of themes outside the view are
// hidden rather than piled at its edges.
func TestBrowserThemeLabels(t *testing.T) {
	browser := newBrowser(t, 1280, 900)
	api := apiServer(t)
	themes := service(t).Themes().Stats().Themes
	ctx := quietTab(t, browser, false)
	run(t, ctx, "open explorer", chromedp.Navigate(api.URL+"/"))
	poll[bool](t, ctx, "the map", `document.querySelector('#map').dataset.pointCount === '574'`)

	got := eval[labelReport](t, ctx, labelBoxes)
	if len(got.IDs) != themes {
		t.Errorf("%d theme labels on the map, want one for each of %d themes (labelled: %v)", len(got.IDs), themes, got.IDs)
	}
	if len(got.Overlaps) > 0 {
		t.Errorf("overlapping labels: %q", got.Overlaps)
	}
	if len(got.Outside) > 0 {
		t.Errorf("labels outside the map: %q", got.Outside)
	}
	distinct := map[string]bool{}
	for _, c := range got.Colours {
		distinct[c] = true
	}
	if len(got.Colours) != themes || len(distinct) != themes {
		t.Errorf("%d themes listed with %d distinct colours, want %d of each", len(got.Colours), len(distinct), themes)
	}

	run(t, ctx, "zoom in", chromedp.Click(chromedp.CSS("#zoom-in")), chromedp.Click(chromedp.CSS("#zoom-in")), chromedp.Click(chromedp.CSS("#zoom-in")))
	poll[bool](t, ctx, "the zoom", `document.querySelector('#map').classList.contains('zoomed')`)
	zoomed := eval[labelReport](t, ctx, labelBoxes)
	if len(zoomed.IDs) == 0 || len(zoomed.IDs) >= themes {
		t.Errorf("zoomed in 4x: %d theme labels, want some but not all %d", len(zoomed.IDs), themes)
	}
	if len(zoomed.Outside) > 0 {
		t.Errorf("zoomed in: labels outside the map: %q", zoomed.Outside)
	}
	if len(zoomed.Overlaps) > 0 {
		t.Errorf("zoomed in: overlapping labels: %q", zoomed.Overlaps)
	}
}
