package servetest

import (
	"bufio"
	"io"
	"strings"
)

// ReadEvents reads a Server-Sent Events stream until it ends, calling each with the name and
// data of every event (the server sends one data line per event).
func ReadEvents(r io.Reader, each func(kind, data string)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var kind, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			kind = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && kind != "":
			each(kind, data)
			kind, data = "", ""
		}
	}
}
