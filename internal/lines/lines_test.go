package lines

import "testing"

func TestSpanAndOffset(t *testing.T) {
	src := []byte("ab\nçd e\n\nlast")
	spans := []struct{ line, start, end int }{{1, 0, 2}, {2, 3, 8}, {3, 9, 9}, {4, 10, 14}, {5, 14, 14}}
	for _, s := range spans {
		if start, end := Span(src, s.line); start != s.start || end != s.end {
			t.Errorf("Span(%d) = %d,%d, want %d,%d", s.line, start, end, s.start, s.end)
		}
	}
	offsets := []struct{ line, col, want int }{{1, 1, 0}, {1, 2, 1}, {2, 2, 5}, {2, 99, 8}, {9, 1, 14}}
	for _, o := range offsets {
		if got := Offset(src, o.line, o.col); got != o.want {
			t.Errorf("Offset(%d, %d) = %d, want %d", o.line, o.col, got, o.want)
		}
	}
}
