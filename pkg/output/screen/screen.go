// Package screen replays what a program wrote to a terminal onto a grid of cells, so tests
// can compare what a user would see rather than the escape sequences that drew it.
package screen

import (
	"strconv"
	"strings"
)

// Screen is a terminal of a fixed size. Lines scrolled off the top are kept, as a
// terminal's scrollback keeps them.
type Screen struct {
	width, height int
	rows          [][]rune
	scrollback    []string
	row, col      int
}

// New returns an empty screen of width columns and height rows.
func New(width, height int) *Screen {
	s := &Screen{width: width, height: height}
	s.rows = make([][]rune, height)
	for i := range s.rows {
		s.rows[i] = blank(width)
	}
	return s
}

func blank(n int) []rune {
	r := make([]rune, n)
	for i := range r {
		r[i] = ' '
	}
	return r
}

// Write interprets p: printable text, CR, LF, backspace, and the CSI sequences storectl
// uses (cursor up and forward, cursor to a previous line, erase in display and in line). SGR (colour)
// and other sequences are consumed without effect on the cells.
func (s *Screen) Write(p []byte) (int, error) {
	text := []rune(string(p))
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '\x1b':
			i = s.escape(text, i)
		case '\r':
			s.col = 0
		case '\n':
			// A terminal's line discipline turns LF into CR LF (onlcr) by default.
			s.col = 0
			s.lineFeed()
		case '\b':
			s.col = max(s.col-1, 0)
		default:
			if c < ' ' {
				continue
			}
			if s.col >= s.width {
				s.col = 0
				s.lineFeed()
			}
			s.rows[s.row][s.col] = c
			s.col++
		}
	}
	return len(p), nil
}

func (s *Screen) lineFeed() {
	if s.row < s.height-1 {
		s.row++
		return
	}
	s.scrollback = append(s.scrollback, strings.TrimRight(string(s.rows[0]), " "))
	copy(s.rows, s.rows[1:])
	s.rows[s.height-1] = blank(s.width)
}

// escape handles the sequence starting at text[i] and returns the index of its last rune.
func (s *Screen) escape(text []rune, i int) int {
	if i+1 >= len(text) || text[i+1] != '[' {
		return i + 1
	}
	j := i + 2
	for j < len(text) && (text[j] >= '0' && text[j] <= '9' || text[j] == ';' || text[j] == '?') {
		j++
	}
	if j >= len(text) {
		return j
	}
	n, err := strconv.Atoi(strings.TrimLeft(string(text[i+2:j]), "?"))
	if err != nil || n < 1 {
		n = 1
	}
	switch text[j] {
	case 'A':
		s.row = max(s.row-n, 0)
	case 'C':
		s.col = min(s.col+n, s.width-1)
	case 'F':
		s.row, s.col = max(s.row-n, 0), 0
	case 'J':
		s.rows[s.row] = append(s.rows[s.row][:s.col], blank(s.width-s.col)...)
		for r := s.row + 1; r < s.height; r++ {
			s.rows[r] = blank(s.width)
		}
	case 'K':
		s.rows[s.row] = append(s.rows[s.row][:s.col], blank(s.width-s.col)...)
	}
	return j
}

// String returns the scrollback and the screen, one line per row with trailing spaces and
// trailing empty rows removed.
func (s *Screen) String() string {
	lines := append([]string(nil), s.scrollback...)
	for _, r := range s.rows {
		lines = append(lines, strings.TrimRight(string(r), " "))
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}
