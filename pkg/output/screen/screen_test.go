package screen

import "testing"

func TestScreen(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, in, want string
	}{
		{"text", "a\nb\n", "a\nb\n"},
		{"carriage return overwrites", "abc\rX\n", "Xbc\n"},
		{"redraw in place", "one\ntwo\n\x1b[2F\x1b[Jthree\n", "three\n"},
		{"colour is not a cell", "\x1b[31mred\x1b[0m\n", "red\n"},
		{"erase line", "abcd\r\x1b[2C\x1b[K\n", "ab\n"},
		{"wrap and scroll", "123456\n7\n8\n", "12345\n6\n7\n8\n"},
	} {
		s := New(5, 3)
		_, _ = s.Write([]byte(tt.in))
		if got := s.String(); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}
