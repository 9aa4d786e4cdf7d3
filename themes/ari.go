package themes

// ARI returns the adjusted Rand index of two labelings of the same items
// (Hubert and Arabie 1985): 1 for the same partition whatever the label
// names, about 0 for independent ones, negative below chance. It follows
// scikit-learn's adjusted_rand_score, including its special cases: two
// partitions that agree on every pair score 1 (so do two empty ones). Any
// int is a label, so an outlier label such as [OutlierID] is one more group.
// It panics if the lengths differ.
func ARI(a, b []int) float64 {
	if len(a) != len(b) {
		panic("themes.ARI: labelings of different lengths")
	}
	type cell struct{ x, y int }
	table := map[cell]float64{}
	rows := map[int]float64{}
	cols := map[int]float64{}
	for i := range a {
		table[cell{a[i], b[i]}]++
		rows[a[i]]++
		cols[b[i]]++
	}
	n := float64(len(a))
	var squares, byCol, byRow float64
	for c, v := range table {
		squares += v * v
		byCol += v * cols[c.y]
		byRow += v * rows[c.x]
	}
	// Ordered pairs of distinct items: together in both (tp), in a only
	// (fn), in b only (fp), in neither (tn).
	tp := squares - n
	fn := byRow - squares
	fp := byCol - squares
	tn := n*n - fn - fp - squares
	if fn == 0 && fp == 0 {
		return 1
	}
	return 2 * (tp*tn - fn*fp) / ((tp+fn)*(fn+tn) + (tp+fp)*(fp+tn))
}
